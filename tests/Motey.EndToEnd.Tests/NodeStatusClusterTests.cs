using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Two agents as real processes, B joined through A's embedded broker: each reads the other's cpu, memory and disk through
/// GET /v1/nodes/{ip}/status (the motey-nodestatus/1 peer message), the way the dashboard shows the cluster's nodes; a node
/// of the original Motey (its pyzmq capabilities replier) is recognised by its answer.
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

    [Fact]
    public async Task A_node_of_the_original_motey_is_501_saying_it_does_not_serve_node_status()
    {
        var a = _scope.Add(AgentProcess.Start(_scope.Folder("a")));
        await a.WaitHealthyAsync();
        var original = AgentProcess.NextAddress();
        await using var python = Pyzmq.Start(OriginalNodeScript(original, a.Address));
        await python.WaitForLineAsync("registered");
        await Wait.UntilAsync(async () => (await a.Client.GetStringAsync("/v1/nodes")).Contains(original, StringComparison.Ordinal),
            "A knows the original node", TimeSpan.FromSeconds(30), detail: () => a.Output);

        using var response = await a.Client.GetAsync($"/v1/nodes/{original}/status");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.NotImplemented, $"{(int)response.StatusCode}: {body}\n{python.Output}");
        Assert.Equal($"node {original} does not serve node status: it answered like a node of the original Motey (or a Motey.NET from before this message)",
            JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.Contains("request motey-nodestatus/1 {}", python.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The original's capabilities replier as it is (pyzmq REP: whatever arrives, the capability list as its repository
    /// stores it), announced on motey/v1/register as the original does, over a bare MQTT 3.1.1 connection (no MQTT library here).
    /// </summary>
    private static string OriginalNodeScript(string address, string broker) => $$"""
        import json, socket, struct
        import zmq
        replier = zmq.Context().socket(zmq.REP)
        replier.bind('tcp://%s:5091' % {{Pyzmq.Quote(address)}})
        def utf8(text):
            data = text.encode()
            return struct.pack('>H', len(data)) + data
        def packet(kind, body):
            size, length = len(body), b''
            while True:
                digit, size = size % 128, size // 128
                length += bytes([digit | (0x80 if size else 0)])
                if not size:
                    return bytes([kind]) + length + body
        mqtt = socket.create_connection(({{Pyzmq.Quote(broker)}}, 1883))
        mqtt.sendall(packet(0x10, utf8('MQTT') + bytes([4, 2]) + struct.pack('>H', 60) + utf8('original-' + {{Pyzmq.Quote(address)}})))
        assert mqtt.recv(4)[:2] == b'\x20\x02', 'no CONNACK'
        mqtt.sendall(packet(0x30, utf8('motey/v1/register') + {{Pyzmq.Quote(address)}}.encode()))
        mqtt.sendall(b'\xe0\x00')
        mqtt.close()
        print('registered')
        while True:
            print('request', replier.recv_string())
            replier.send_string(json.dumps([{'capability': 'camera', 'type': 'hardware'}]))
        """;

    private static void AssertNodeStatus(JsonElement status)
    {
        Assert.InRange(status.GetProperty("cpu").GetDouble(), 0, 100);
        Assert.True(status.GetProperty("memory").GetProperty("total").GetInt64() > 0);
        Assert.InRange(status.GetProperty("memory").GetProperty("percent").GetDouble(), 0, 100);
        Assert.True(status.GetProperty("disk").GetProperty("total").GetInt64() > 0);
        Assert.InRange(status.GetProperty("disk").GetProperty("percent").GetDouble(), 0, 100);
    }
}
