using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;
using Motey.Host.Peers;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Orchestration;

/// <summary>
/// The real placer asking real peers over the real requester: many peers (real ROUTER sockets on 127.79.x.y), dead
/// ones among them (addresses where nothing listens), more than a connection cap allows.
/// </summary>
public sealed class PlacementAtScaleTests
{
    private static readonly Image NeedsLab = new() { Name = "x", Engine = "simulated", Capabilities = ["lab"] };

    [Fact]
    public async Task More_peers_than_NetMQs_default_socket_limit_are_asked_and_the_only_capable_one_last_in_the_order_is_chosen()
    {
        // 1,100 original nodes (no view entries): each is asked the v1 way over a connection of its own, beyond the
        // 1,024 sockets NetMQ allows unless raised (this process raised it at start, as the agent does).
        await using var fleet = CapabilityFleet.Start(1100, k => k == 1099 ? CapabilityFleet.Capable : CapabilityFleet.Lacking);
        // The agent's idle cap (its default floor, following the cluster's size); the idle timeout longer than any run of
        // this test: on a loaded machine the placement took 48 s once, and the connections idle for 15 s were closed.
        using var requester = new PeerRequester(TimeSpan.FromMinutes(10), PeerRequester.DefaultMaxIdleConnections, clusterSize: () => fleet.Addresses.Count);
        var (placer, _) = PlacerFor(fleet, requester, TimeSpan.FromSeconds(10));

        var result = await placer.FindNodeAsync(NeedsLab, CancellationToken.None);

        Assert.True(result.Node is not null, result.Problem);
        Assert.Equal(fleet.Addresses[^1], result.Node.Address);
        Assert.Equal(1100, fleet.Requests);
        Assert.Equal(1100, await requester.CountConnectionsAsync());  // one kept connection per peer: the idle cap follows the cluster
    }

    [Fact]
    public async Task With_a_connection_cap_far_below_the_cluster_the_capable_peer_is_still_found_and_requests_wait_for_a_slot()
    {
        await using var fleet = CapabilityFleet.Start(300, k => k == 299 ? CapabilityFleet.Capable : CapabilityFleet.Lacking);
        using var requester = new PeerRequester(PeerRequester.DefaultIdleTimeout, maxIdleConnections: 4, maxConnections: 8);
        var (placer, _) = PlacerFor(fleet, requester, TimeSpan.FromSeconds(10));

        for (var round = 0; round < 3; round++)
        {
            var result = await placer.FindNodeAsync(NeedsLab, CancellationToken.None);
            Assert.True(result.Node is not null, $"round {round}: {result.Problem}");
            Assert.Equal(fleet.Addresses[^1], result.Node.Address);
        }
        Assert.InRange(await requester.CountConnectionsAsync(), 1, 8);
    }

    [Fact]
    public async Task With_many_dead_peers_every_placement_lands_on_the_right_node_and_none_waits_for_a_dead_peers_request_timeout()
    {
        // 200 peers, every fifth dead (nothing listens on its address); a capable peer every tenth place, never a dead one.
        await using var fleet = CapabilityFleet.Start(200, k => k % 5 == 4 ? null : k % 10 == 3 ? CapabilityFleet.Capable : CapabilityFleet.Lacking);
        using var requester = new PeerRequester();
        var (placer, _) = PlacerFor(fleet, requester, TimeSpan.FromSeconds(30));
        var capable = Enumerable.Range(0, 200).Where(k => k % 10 == 3).Select(k => fleet.Addresses[k]).ToList();

        // 40 placements, each to a later capable peer (the others excluded, as after failed deploys there), so each
        // passes dead peers it has not met before. A dead peer's request lasts 30 s: one placement waiting for it would
        // take that long, and forty waiting a second each (the old preference wait, once per dead peer met) 40 s.
        // Only the target is left capable: with a later capable peer left in, a target slow to answer its first
        // request (a loaded machine: over 250 ms) lost to it by design, and the test named the wrong node.
        var placements = Task.Run(async () =>
        {
            for (var round = 0; round < 40; round++)
            {
                var target = round % capable.Count;
                var result = await placer.FindNodeAsync(NeedsLab, capable.Where((_, i) => i != target).ToHashSet(), CancellationToken.None);
                Assert.True(result.Node is not null, $"round {round}: {result.Problem}");
                Assert.Equal(capable[target], result.Node.Address);
            }
        });
        await placements.WaitAsync(TimeSpan.FromSeconds(25));
    }

    [Fact]
    public async Task The_peer_the_view_names_has_its_deploy_and_state_connections_opened_while_placement_confirms_it()
    {
        // 50 peers that published what they have; the last can run the image. Its deploy and state repliers are scripted
        // peers that only count connections: placement sends them nothing, yet connects to them.
        await using var fleet = CapabilityFleet.Start(50, k => k == 49 ? CapabilityFleet.Capable : CapabilityFleet.Lacking);
        await using var deploy = new ScriptedPeer(fleet.Addresses[^1], 5092);
        await using var state = new ScriptedPeer(fleet.Addresses[^1], 5093);
        using var requester = new PeerRequester();
        var (placer, view) = PlacerFor(fleet, requester, TimeSpan.FromSeconds(10));
        for (var k = 0; k < 50; k++)
        {
            view.Set(fleet.Addresses[k], k == 49
                ? [new Capability("lab", "hardware"), new Capability("simulated", Capability.PluginType)]
                : [new Capability("simulated", Capability.PluginType)], DateTimeOffset.UtcNow);
        }

        var result = await placer.FindNodeAsync(NeedsLab, CancellationToken.None);

        Assert.Equal(fleet.Addresses[^1], result.Node?.Address);
        Assert.Equal(1, fleet.Requests);  // the confirmation of the one candidate
        await Wait.UntilAsync(() => deploy.Accepted == 1 && state.Accepted == 1, "the deploy and state connections are open");
        Assert.Equal(3, await requester.CountConnectionsAsync());
    }

    [Fact]
    public async Task Peers_with_a_view_entry_are_judged_from_it_and_an_original_node_without_one_is_still_found()
    {
        // 1,000 peers that published what they have (none can run the image) and, last in the order, an original node
        // that can and publishes nothing.
        await using var fleet = CapabilityFleet.Start(1001, k => k == 1000 ? CapabilityFleet.Capable : CapabilityFleet.Lacking);
        using var requester = new PeerRequester();
        var (placer, view) = PlacerFor(fleet, requester, TimeSpan.FromSeconds(10));
        foreach (var address in fleet.Addresses.Take(1000))
            view.Set(address, [new Capability("simulated", Capability.PluginType)], DateTimeOffset.UtcNow);

        var result = await placer.FindNodeAsync(NeedsLab, CancellationToken.None);

        Assert.True(result.Node is not null, result.Problem);
        Assert.Equal(fleet.Addresses[^1], result.Node.Address);
        Assert.Equal(1, fleet.Requests);  // the original node only
    }

    private static (Placer Placer, CapabilityView View) PlacerFor(CapabilityFleet fleet, PeerRequester requester, TimeSpan requestTimeout)
    {
        var settings = Settings(requestTimeout);
        var clients = fleet.Addresses.Select(a => (INodeClient)new ZeroMqNodeClient(a, settings, requester)).ToList();
        var view = new CapabilityView();
        return (new Placer(new Nobody(), new Directory(clients), view, PlacementSettings.For(requestTimeout), NullLogger<Placer>.Instance), view);
    }

    private static ZeroMqSettings Settings(TimeSpan requestTimeout) =>
        new("tcp://127.0.0.1:5090", 5091, 5092, 5093, 5094, requestTimeout, TimeSpan.FromSeconds(60));

    private sealed class Directory(IReadOnlyList<INodeClient> peers) : IPeerDirectory
    {
        public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken) => Task.FromResult(peers);
        public INodeClient? Find(string address) => peers.FirstOrDefault(p => p.Address == address);
    }

    /// <summary>This node: it can run nothing, so every placement goes to a peer.</summary>
    private sealed class Nobody : INodeClient
    {
        public string Address => "127.0.0.1";
        public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<Capability>>([]);
        public Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task TerminateImageAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
