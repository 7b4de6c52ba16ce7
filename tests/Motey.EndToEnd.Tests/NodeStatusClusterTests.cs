using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Two agents as real processes, B joined through A's embedded broker: each reads the other's cpu, memory and disk through
/// GET /v1/nodes/{ip}/status (the motey-nodestatus/1 peer message), the way the dashboard shows the cluster's nodes.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class NodeStatusClusterTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-nodestatus-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    [Fact]
    public async Task A_node_reads_another_node_s_status_through_itself()
    {
        var a = _scope.Add(AgentProcess.Start(_scope.Folder("a")));
        await a.WaitHealthyAsync();
        var b = _scope.Add(AgentProcess.Start(_scope.Folder("b"), settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
        }));
        await b.WaitHealthyAsync();
        await Wait.UntilAsync(async () => (await a.Client.GetStringAsync("/v1/nodes")).Contains(b.Address, StringComparison.Ordinal),
            "A knows B", TimeSpan.FromSeconds(30), detail: () => a.Output);

        using var response = await a.Client.GetAsync($"/v1/nodes/{b.Address}/status");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}\n{a.Output}");
        AssertNodeStatus(JsonDocument.Parse(body).RootElement);
        // And back: B reads A's, and its own without asking anyone.
        AssertNodeStatus(await b.Client.GetFromJsonAsync<JsonElement>($"/v1/nodes/{a.Address}/status"));
        AssertNodeStatus(await b.Client.GetFromJsonAsync<JsonElement>($"/v1/nodes/{b.Address}/status"));
        var metrics = (await a.Client.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(metrics, l => l.StartsWith("motey_peer_requests_total{", StringComparison.Ordinal)
            && l.Contains("kind=\"nodestatus\"", StringComparison.Ordinal) && l.Contains("outcome=\"ok\"", StringComparison.Ordinal) && l.EndsWith("} 1", StringComparison.Ordinal));
    }

    private static void AssertNodeStatus(JsonElement status)
    {
        Assert.InRange(status.GetProperty("cpu").GetDouble(), 0, 100);
        Assert.True(status.GetProperty("memory").GetProperty("total").GetInt64() > 0);
        Assert.InRange(status.GetProperty("memory").GetProperty("percent").GetDouble(), 0, 100);
        Assert.True(status.GetProperty("disk").GetProperty("total").GetInt64() > 0);
        Assert.InRange(status.GetProperty("disk").GetProperty("percent").GetDouble(), 0, 100);
    }
}
