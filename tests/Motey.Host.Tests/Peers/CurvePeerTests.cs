using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// The repliers as CURVE servers of the cluster key, over real loopback sockets: a peer that holds the key is answered
/// and deploys; one with another key, a plain one, and a REQ peer of the original get nothing, are logged, and change
/// nothing for the trusted peers.
/// </summary>
public sealed class CurvePeerTests : IDisposable
{
    private readonly TestFolder _keys = new();
    private readonly string _clusterKey;
    private readonly string _otherKey;

    public CurvePeerTests()
    {
        _clusterKey = Path.Combine(_keys.Path, "cluster.key");
        _otherKey = Path.Combine(_keys.Path, "other.key");
        ClusterKey.Generate().Write(_clusterKey, force: false);
        ClusterKey.Generate().Write(_otherKey, force: false);
    }

    public void Dispose() => _keys.Dispose();

    /// <summary>
    /// Short timeouts for the peers that get no answer; patient ones (<paramref name="patient"/>) for those that must get
    /// one: a first connection on loopback now and then waits a second for a retransmitted SYN, key or no key.
    /// </summary>
    private static Dictionary<string, string> Settings(string? key, bool patient = false)
    {
        var timeout = patient ? "10" : "1";
        var settings = new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = timeout, ["ZEROMQ:deploy_timeout"] = timeout };
        if (key is not null) settings["ZEROMQ:cluster_key"] = key;
        return settings;
    }

    private static Image Busybox => new() { Name = "busybox", Engine = "simulated" };

    private static Dictionary<string, string> Labels(string node) => new()
    {
        [InstanceLabels.ServiceId] = "s1", [InstanceLabels.ImageIndex] = "0", [InstanceLabels.Node] = node,
    };

    [Fact]
    public async Task A_peer_holding_the_cluster_key_is_answered_and_deploys()
    {
        await using var b = await PeerNode.CreateAsync(settings: Settings(_clusterKey));
        await b.StartRepliersAsync();
        await using var a = await PeerNode.CreateAsync(simulatedPlugin: false, Settings(_clusterKey, patient: true));
        var client = a.Peers.For(b.Address);

        Assert.Equal([new Capability("simulated", "plugin")], await client.GetCapabilitiesAsync(CancellationToken.None));
        var id = await client.DeployImageAsync(Busybox, Labels(b.Address), CancellationToken.None);
        var image = Busybox with { Id = id, Node = b.Address };
        await Wait.UntilAsync(async () => await client.GetImageStateAsync(image, CancellationToken.None) == ImageState.Running, "the image runs on B");
        Assert.Empty(await client.ConfirmInstancesAsync(a.Address, [], CancellationToken.None) ?? []);
        await client.TerminateImageAsync(image, CancellationToken.None);
        Assert.Equal(ImageState.Terminated, await client.GetImageStateAsync(image, CancellationToken.None));
        Assert.Contains(b.Logs.Lines, l => l.Contains("CURVE with the cluster key", StringComparison.Ordinal));
        Assert.DoesNotContain(b.Logs.Lines, l => l.Contains("Refused", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("another cluster's key")]
    [InlineData("no key")]
    public async Task A_peer_without_the_cluster_key_gets_no_answer_is_logged_and_trusted_peers_are_still_answered(string untrusted)
    {
        await using var b = await PeerNode.CreateAsync(settings: Settings(_clusterKey));
        await b.StartRepliersAsync();
        await using var stranger = await PeerNode.CreateAsync(simulatedPlugin: false, Settings(untrusted == "no key" ? null : _otherKey));
        await using var friend = await PeerNode.CreateAsync(simulatedPlugin: false, Settings(_clusterKey, patient: true));

        var asked = stranger.Peers.For(b.Address).GetCapabilitiesAsync(CancellationToken.None);
        var deploy = stranger.Peers.For(b.Address).DeployImageAsync(Busybox, Labels(b.Address), CancellationToken.None);
        // While the stranger knocks, a trusted peer is answered.
        Assert.NotEmpty(await friend.Peers.For(b.Address).GetCapabilitiesAsync(CancellationToken.None));

        var error = await Assert.ThrowsAsync<PeerTimeoutException>(() => asked);
        Assert.StartsWith($"node {b.Address} did not answer on tcp://{b.Address}:5091 within 1 s", error.Message);
        await Assert.ThrowsAsync<PeerTimeoutException>(() => deploy);
        Assert.Empty(await b.Simulated.GetRunningInstancesAsync(CancellationToken.None));
        await b.Logs.WaitForAsync("Refused a connection from 127.");
        Assert.Contains(b.Logs.Lines,
            l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("did not complete the CURVE handshake", StringComparison.Ordinal));

        var id = await friend.Peers.For(b.Address).DeployImageAsync(Busybox, Labels(b.Address), CancellationToken.None);
        Assert.Equal(id, Assert.Single(await b.Simulated.GetRunningInstancesAsync(CancellationToken.None)).Id);
    }

    [Fact]
    public async Task A_REQ_peer_of_the_original_gets_no_answer_from_a_node_with_a_key()
    {
        await using var b = await PeerNode.CreateAsync(settings: Settings(_clusterKey));
        await b.StartRepliersAsync();

        var answered = await Task.Run(() =>
        {
            using var socket = new RequestSocket();
            socket.Options.Linger = TimeSpan.Zero;
            socket.Connect(b.CapabilitiesEndpoint);
            socket.SendFrame("");
            return socket.TryReceiveFrameString(TimeSpan.FromSeconds(1), out _);
        });

        Assert.False(answered);
        await b.Logs.WaitForAsync("Refused a connection from 127.");
    }

    [Fact]
    public async Task A_node_with_the_cluster_key_gets_no_answer_from_a_plain_node_so_nothing_travels_in_clear()
    {
        await using var plain = await PeerNode.CreateAsync(settings: Settings(null));
        await plain.StartRepliersAsync();
        await using var keyed = await PeerNode.CreateAsync(simulatedPlugin: false, Settings(_clusterKey));

        var error = await Assert.ThrowsAsync<PeerTimeoutException>(() => keyed.Peers.For(plain.Address).GetCapabilitiesAsync(CancellationToken.None));
        Assert.Contains("a node without this cluster's key, or with another one, does not answer either", error.Message);
    }
}
