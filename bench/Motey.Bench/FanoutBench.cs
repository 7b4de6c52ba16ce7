using System.Diagnostics;
using System.Text;
using MQTTnet;

namespace Motey.Bench;

/// <summary>
/// 3. Placement fan-out: POST to RUNNING of an image whose capability only the last of N peers has, N = 10, 50, 100,
/// with 0 % and 20 % of the peers dead (registered addresses where nothing listens). Baseline: the same placement
/// with the capability on the agent itself (N = 0). Peers are simulated by <see cref="FakePeers"/> in one process and
/// injected into the agent's membership with <c>motey/v1/register</c> on its embedded MQTT broker.
/// </summary>
internal static class FanoutBench
{
    private const string LivePrefix = "127.78.1";
    private const string DeadPrefix = "127.78.0";
    private const int FirstHost = 100;  // three-digit last octets: address order (ordinal, as the agent sorts) is numeric order
    private static readonly int[] Sizes = [10, 50, 100];
    private static readonly int[] DeadPercents = [0, 20];

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("3. Placement fan-out", "Motey agent, N peers", "capability on the agent (N = 0)");
        section.Intro.Add($"Fake peers (one `motey-bench fake-peers` process, NetMQ ROUTER sockets on {LivePrefix}.{FirstHost}+k:5091–5094) answer capabilities, deploy, status (RUNNING) and terminate at once. "
            + $"Dead peers are registered addresses ({DeadPrefix}.x) where nothing listens. Only the last live peer in the agent's order has the capability. "
            + $"`[ZEROMQ] request_timeout = {context.PeerTimeoutSeconds}` (default 5). One fresh agent per configuration, one untimed warm-up placement, then {context.Runs} runs: "
            + "POST, poll GET /v1/service/{id} every 1 ms until RUNNING, check the image's node, DELETE.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        var peersLog = Path.Combine(context.NewFolder("fake-peers"), "fake-peers.log");
        await using var peers = ChildProcess.Start(context.BenchExecutable, ["fake-peers", "--prefix", LivePrefix, "--first", $"{FirstHost}", "--count", $"{Sizes.Max()}"], peersLog);
        await WaitForLineAsync(peers, "ready", TimeSpan.FromSeconds(30));

        var baseline = await MeasureAsync(context, 0, 0);
        section.Add("N = 0 (local)", "POST → RUNNING", baseline, baseline);
        foreach (var dead in DeadPercents)
            foreach (var n in Sizes)
                section.Add($"N = {n}, {dead} % dead", "POST → RUNNING", await MeasureAsync(context, n, dead), baseline);
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}. Fake peers' RSS: {peers.RssMiB():0.0} MiB.");
    }

    private static async Task<Series> MeasureAsync(BenchContext context, int n, int deadPercent)
    {
        var dead = n * deadPercent / 100;
        var live = n - dead;
        context.Log($"Fan-out: N = {n}, {dead} dead (load {BenchContext.LoadAverage()})");
        await using var agent = AgentNode.Start(context, $"fanout-{n}-{deadPercent}",
            new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = $"{context.PeerTimeoutSeconds}" });
        await agent.WaitHealthyAsync();
        await agent.WaitPluginsActiveAsync();

        string capability, expectedNode;
        if (n == 0)
        {
            capability = FakePeers.Capability(0);
            expectedNode = agent.Address;
            await agent.PutCapabilitiesAsync([capability], "hardware");
        }
        else
        {
            capability = FakePeers.Capability(live);
            expectedNode = $"{LivePrefix}.{FirstHost + live - 1}";
            var addresses = Enumerable.Range(0, live).Select(k => $"{LivePrefix}.{FirstHost + k}")
                .Concat(Enumerable.Range(0, dead).Select(k => $"{DeadPrefix}.{FirstHost + k}")).ToList();
            await RegisterAsync(agent, addresses);
        }

        var series = new Series("ms");
        for (var run = 0; run <= context.Runs; run++)
        {
            var yaml = $$"""
                service_name: bench-fanout-{{run}}
                images:
                - name: placed-{{run}}
                  engine: simulated
                  parameters: {start_delay_ms: 0}
                  capabilities: [{{capability}}]
                """;
            var clock = Stopwatch.StartNew();
            var id = await agent.PostServiceAsync(yaml);
            using (var service = await agent.WaitServiceStateAsync(id, ServiceStates.Running, TimeSpan.FromSeconds(60), pollMs: 1))
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                var node = service.RootElement.GetProperty("images")[0].GetProperty("node").GetString();
                if (node != expectedNode) throw new BenchException($"the image was placed on {node}, expected {expectedNode}");
                if (run > 0) series.Add(elapsed);  // run 0 warms up
            }
            await agent.DeleteServiceAsync(id, TimeSpan.FromSeconds(60));
        }
        return series;
    }

    /// <summary>Publishes each address on motey/v1/register at the agent's embedded broker; waits until GET /v1/nodes lists them all.</summary>
    private static async Task RegisterAsync(AgentNode agent, IReadOnlyList<string> addresses)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var connected = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(agent.Address, AgentNode.MqttPort)
            .WithClientId($"motey-bench-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .Build());
        if (connected.ResultCode != MqttClientConnectResultCode.Success) throw new BenchException($"the agent's broker refused the connection: {connected.ResultCode}");
        foreach (var address in addresses)
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("motey/v1/register").WithPayload(Encoding.UTF8.GetBytes(address)).Build());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await agent.NodeCountAsync() < addresses.Count + 1)
        {
            if (DateTime.UtcNow > deadline) throw new BenchException($"the agent lists {await agent.NodeCountAsync()} nodes, expected {addresses.Count + 1}");
            await Task.Delay(20);
        }
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
    }

    private static async Task WaitForLineAsync(ChildProcess process, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(File.Exists(process.LogPath) && File.ReadAllText(process.LogPath).Contains(text, StringComparison.Ordinal)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline) throw new BenchException($"fake peers not ready:\n{process.Tail()}");
            await Task.Delay(50);
        }
    }
}
