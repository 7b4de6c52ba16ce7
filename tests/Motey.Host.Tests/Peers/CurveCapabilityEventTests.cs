using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// The capability event listener with a cluster key: a CURVE server only with capability_publishers = any, where a
/// publisher needs the key; with local publishers it stays plain for the capability engine on the same host.
/// </summary>
public sealed class CurveCapabilityEventTests : IDisposable
{
    private static readonly Capability Gpu = new("gpu", "hardware");
    /// <summary>
    /// How long a publisher that must be refused waits; one that must get through waits the default (a first connection
    /// on loopback now and then waits a second for a retransmitted SYN).
    /// </summary>
    private static readonly TimeSpan Refused = TimeSpan.FromSeconds(1);

    private readonly TestFolder _keys = new();
    private readonly string _clusterKey;
    private readonly StringWriter _output = new();

    public CurveCapabilityEventTests()
    {
        _clusterKey = Path.Combine(_keys.Path, "cluster.key");
        ClusterKey.Generate().Write(_clusterKey, force: false);
    }

    public void Dispose()
    {
        _output.Dispose();
        _keys.Dispose();
    }

    private Task<int> PublishAsync(PeerNode node, ClusterKey? key, TimeSpan? wait = null) =>
        CapabilityEventPublisher.PublishAsync(node.EventEndpoint, CapabilityEventPublisher.AddCommand, [Gpu], _output, wait, key);

    [Fact]
    public async Task With_publishers_from_anywhere_only_a_publisher_holding_the_cluster_key_is_heard()
    {
        await using var node = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string>
        {
            ["ZEROMQ:cluster_key"] = _clusterKey,
            ["ZEROMQ:capability_publishers"] = "any",
        });
        await node.StartListenerAsync();
        var key = ClusterKey.ForCapabilityEvents(node.Settings.ZeroMq);
        Assert.NotNull(key);

        Assert.Equal(1, await PublishAsync(node, null, Refused));
        Assert.Equal(1, await PublishAsync(node, ClusterKey.Generate(), Refused));
        Assert.Contains($"no capability event listener subscribed on {node.EventEndpoint}", _output.ToString());
        Assert.Contains("A listener with another cluster key", _output.ToString());
        await node.Logs.WaitForAsync("Refused a connection from 127.");
        Assert.Contains(node.Logs.Lines, l => l.Contains("to the capability event listener", StringComparison.Ordinal));
        Assert.DoesNotContain(Gpu, await node.Capabilities.AllAsync());

        Assert.Equal(0, await PublishAsync(node, key));
        await node.WaitForCapabilitiesAsync(c => c.Contains(Gpu), "the event of the publisher with the key is applied");
    }

    [Fact]
    public async Task With_local_publishers_the_listener_stays_plain_even_when_the_cluster_has_a_key()
    {
        await using var node = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string> { ["ZEROMQ:cluster_key"] = _clusterKey });
        await node.StartListenerAsync();
        Assert.Null(ClusterKey.ForCapabilityEvents(node.Settings.ZeroMq));

        Assert.Equal(0, await PublishAsync(node, null));
        await node.WaitForCapabilitiesAsync(c => c.Contains(Gpu), "the plain event is applied");
        Assert.Contains(node.Logs.Lines, l => l.Contains("from publishers on this host (plain ZeroMQ)", StringComparison.Ordinal));
    }
}
