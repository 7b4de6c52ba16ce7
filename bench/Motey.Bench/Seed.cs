namespace Motey.Bench;

/// <summary>The state the REST and footprint benchmarks read: ten capabilities and ten running services on the simulated engine.</summary>
internal static class Seed
{
    public const int Services = 10;
    public const int Capabilities = 10;

    public static async Task ApplyAsync(AgentNode agent)
    {
        await agent.PutCapabilitiesAsync(Enumerable.Range(0, Capabilities).Select(i => $"bench-capability-{i}"), "hardware");
        var ids = new List<string>();
        for (var i = 0; i < Services; i++)
        {
            ids.Add(await agent.PostServiceAsync($$"""
                service_name: bench-service-{{i}}
                node_type: bench
                images:
                - name: sim-{{i}}
                  engine: simulated
                  parameters: {start_delay_ms: 0}
                  capabilities: [bench-capability-{{i}}]
                """));
        }
        foreach (var id in ids) (await agent.WaitServiceStateAsync(id, ServiceStates.Running, TimeSpan.FromSeconds(30), pollMs: 20)).Dispose();
    }

    /// <summary>Captures what the seeded agent answers, so the bare app serves the same bytes.</summary>
    public static async Task CaptureBodiesAsync(AgentNode agent, BenchContext context)
    {
        context.CapabilitiesBody = await agent.Http.GetByteArrayAsync("/v1/capabilities");
        context.ServiceBody = await agent.Http.GetByteArrayAsync("/v1/service");
    }
}
