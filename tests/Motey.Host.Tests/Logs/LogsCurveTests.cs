using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Logs;

/// <summary>Logs through a capabilities replier that is a CURVE server of the cluster key: the key reads, no key gets no answer.</summary>
public sealed class LogsCurveTests : IDisposable
{
    private readonly TestFolder _keys = new();
    private readonly string _clusterKey;

    public LogsCurveTests()
    {
        _clusterKey = Path.Combine(_keys.Path, "cluster.key");
        ClusterKey.Generate().Write(_clusterKey, force: false);
    }

    public void Dispose() => _keys.Dispose();

    [Fact]
    public async Task A_peer_with_the_cluster_key_reads_logs_and_one_without_it_times_out()
    {
        await using var b = await PeerNode.CreateAsync(settings: new Dictionary<string, string>
        {
            ["ZEROMQ:cluster_key"] = _clusterKey, ["ZEROMQ:request_timeout"] = "10", ["SIMULATED:log_interval_ms"] = "20",
        });
        await b.StartRepliersAsync();
        await using var a = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string>
        {
            ["ZEROMQ:cluster_key"] = _clusterKey, ["ZEROMQ:request_timeout"] = "10",
        });
        await using var plain = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = "1" });
        var id = await b.Local.DeployImageAsync(new Image { Name = "web", Engine = "simulated" },
            new Dictionary<string, string> { [InstanceLabels.ServiceId] = "s1", [InstanceLabels.ImageIndex] = "0" }, default);
        var target = new LogTarget("s1", 0, id, "simulated");

        var lines = new List<LogLine>();
        await Wait.UntilAsync(async () =>
        {
            lines.Clear();
            await foreach (var line in await a.Peers.For(b.Address).ReadLogsAsync(target, new LogRequest(), default)) lines.Add(line);
            return lines.Count >= 3;
        }, "node A reads 3 lines of B's instance over CURVE");
        Assert.Equal($"simulated instance {id} of web starting", lines[0].Text);

        var e = await Assert.ThrowsAsync<PeerTimeoutException>(() => plain.Peers.For(b.Address).ReadLogsAsync(target, new LogRequest(), default));
        Assert.StartsWith($"node {b.Address} did not answer", e.Message);
    }
}
