using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Membership;

/// <summary>The peer directory and the nodes table it mirrors, as membership joins, leaves and resyncs peers.</summary>
public sealed class ClusterNodesTests
{
    private const string Self = "10.0.0.1";

    private readonly ManualClock _clock = new();
    private readonly InMemoryNodeStore _store;
    private readonly RemoteNodes _remotes = new();
    private readonly LocalNode _local;
    private readonly ClusterNodes _nodes;
    private readonly CapabilityView _view = new();

    public ClusterNodesTests()
    {
        _store = new InMemoryNodeStore(_clock);
        _local = new LocalNode(new NodeIdentity(Self), new InMemoryCapabilityStore(), new FakeEngines(), new LocalNodeSettings(TimeSpan.FromSeconds(1)));
        _nodes = new ClusterNodes(new NodeIdentity(Self), _store, _local, _remotes, view: _view);
    }

    private async Task<IEnumerable<string>> PeersAsync() => (await _nodes.PeersAsync(CancellationToken.None)).Select(p => p.Address);

    private async Task<IEnumerable<(string, bool)>> TableAsync() => (await _store.AllAsync()).Select(n => (n.Address, n.IsSelf));

    private async Task AddAsync(params string[] addresses)
    {
        foreach (var address in addresses) await _nodes.AddAsync(address, CancellationToken.None);
    }

    [Fact]
    public async Task At_start_the_nodes_of_the_last_run_are_forgotten_and_only_this_node_is_listed()
    {
        await _store.UpsertAsync("10.0.0.7");
        await _store.UpsertAsync(Self, isSelf: true);
        await AddAsync("10.0.0.2");

        await _nodes.ResetAsync(CancellationToken.None);

        Assert.Equal([(Self, true)], await TableAsync());
        Assert.Empty(await PeersAsync());
        Assert.Null(_nodes.Find("10.0.0.2"));
    }

    /// <summary>Placement reads the list once per image: it is sorted again only when the members changed, not per placement.</summary>
    [Fact]
    public async Task The_ordered_peer_list_is_shared_until_a_peer_joins_or_leaves()
    {
        await _nodes.ResetAsync(CancellationToken.None);
        await AddAsync("10.0.0.3", "10.0.0.2");

        var first = await _nodes.PeersAsync(CancellationToken.None);
        await _nodes.SeenAsync("10.0.0.2", CancellationToken.None);
        await _nodes.AddAsync("10.0.0.3", CancellationToken.None);  // known already: no change
        Assert.Same(first, await _nodes.PeersAsync(CancellationToken.None));

        await AddAsync("10.0.0.4");
        var joined = await _nodes.PeersAsync(CancellationToken.None);
        Assert.NotSame(first, joined);
        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.4"], joined.Select(p => p.Address));

        await _nodes.RemoveAsync("10.0.0.3", CancellationToken.None);
        Assert.Equal(["10.0.0.2", "10.0.0.4"], await PeersAsync());
        await _nodes.ResetAsync(CancellationToken.None);
        Assert.Empty(await PeersAsync());
    }

    [Fact]
    public async Task A_peer_that_joins_is_listed_reachable_and_placed_among_the_peers_by_address()
    {
        await _nodes.ResetAsync(CancellationToken.None);

        Assert.True(await _nodes.AddAsync("10.0.0.3", CancellationToken.None));
        Assert.True(await _nodes.AddAsync("10.0.0.2", CancellationToken.None));

        Assert.Equal(["10.0.0.2", "10.0.0.3"], await PeersAsync());
        Assert.Equal(["10.0.0.2", "10.0.0.3"], _nodes.PeerAddresses.Order());
        Assert.Equal([(Self, true), ("10.0.0.2", false), ("10.0.0.3", false)], await TableAsync());
        Assert.Same(_remotes.Made["10.0.0.2"], _nodes.Find("10.0.0.2"));
    }

    [Fact]
    public async Task A_peer_that_announces_itself_again_keeps_its_client_and_is_seen_later()
    {
        await AddAsync("10.0.0.2");
        var client = _nodes.Find("10.0.0.2");
        var firstSeen = (await _store.AllAsync()).Single().LastSeen;
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.False(await _nodes.AddAsync("10.0.0.2", CancellationToken.None));

        Assert.Same(client, _nodes.Find("10.0.0.2"));
        Assert.Equal(firstSeen + TimeSpan.FromMinutes(1), (await _store.AllAsync()).Single().LastSeen);
        Assert.Single(await PeersAsync());
    }

    [Fact]
    public async Task This_node_is_never_its_own_peer()
    {
        await _nodes.ResetAsync(CancellationToken.None);

        Assert.False(await _nodes.AddAsync(Self, CancellationToken.None));
        Assert.False(await _nodes.RemoveAsync(Self, CancellationToken.None));

        Assert.Empty(await PeersAsync());
        Assert.Same(_local, _nodes.Find(Self));
        Assert.Equal([(Self, true)], await TableAsync());
    }

    [Fact]
    public async Task A_peer_that_leaves_is_forgotten_by_the_directory_and_the_table()
    {
        await AddAsync("10.0.0.2", "10.0.0.3");

        Assert.True(await _nodes.RemoveAsync("10.0.0.2", CancellationToken.None));
        Assert.False(await _nodes.RemoveAsync("10.0.0.2", CancellationToken.None));

        Assert.Equal(["10.0.0.3"], await PeersAsync());
        Assert.Null(_nodes.Find("10.0.0.2"));
        Assert.Equal([("10.0.0.3", false)], await TableAsync());
    }

    [Fact]
    public async Task Peers_stay_known_during_a_resync_and_only_those_that_did_not_announce_themselves_stay_unconfirmed()
    {
        await _nodes.ResetAsync(CancellationToken.None);
        await AddAsync("10.0.0.2", "10.0.0.3", "10.0.0.4");

        _nodes.BeginResync();
        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.4"], await PeersAsync());
        await AddAsync("10.0.0.3", "10.0.0.5");

        Assert.Equal(["10.0.0.2", "10.0.0.4"], _nodes.UnconfirmedAddresses.Order());
        Assert.True(_nodes.IsUnconfirmed("10.0.0.2"));
        Assert.False(_nodes.IsUnconfirmed("10.0.0.3"));
        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"], await PeersAsync());
    }

    [Fact]
    public async Task Only_an_unconfirmed_peer_is_removed_as_unconfirmed_and_it_leaves_directory_and_table()
    {
        await _nodes.ResetAsync(CancellationToken.None);
        await AddAsync("10.0.0.2", "10.0.0.3");
        _nodes.BeginResync();
        await AddAsync("10.0.0.3");

        Assert.True(await _nodes.RemoveUnconfirmedAsync("10.0.0.2", CancellationToken.None));
        Assert.False(await _nodes.RemoveUnconfirmedAsync("10.0.0.3", CancellationToken.None));

        Assert.Equal(["10.0.0.3"], await PeersAsync());
        Assert.Null(_nodes.Find("10.0.0.2"));
        Assert.Equal([(Self, true), ("10.0.0.3", false)], await TableAsync());
        Assert.Empty(_nodes.UnconfirmedAddresses);
    }

    [Fact]
    public async Task Without_a_resync_no_peer_is_unconfirmed()
    {
        await AddAsync("10.0.0.2");

        Assert.Empty(_nodes.UnconfirmedAddresses);
        Assert.False(await _nodes.RemoveUnconfirmedAsync("10.0.0.2", CancellationToken.None));
        Assert.Equal(["10.0.0.2"], await PeersAsync());
    }

    [Fact]
    public async Task A_reset_during_a_resync_ends_it()
    {
        await AddAsync("10.0.0.2");
        _nodes.BeginResync();

        await _nodes.ResetAsync(CancellationToken.None);
        await AddAsync("10.0.0.3");

        Assert.Empty(_nodes.UnconfirmedAddresses);
        Assert.Equal(["10.0.0.3"], await PeersAsync());
    }

    [Fact]
    public async Task A_peer_heard_from_is_seen_later_and_an_unknown_address_heard_from_stays_unknown()
    {
        await _nodes.ResetAsync(CancellationToken.None);
        await AddAsync("10.0.0.2");
        var firstSeen = (await _store.AllAsync()).Single(n => n.Address == "10.0.0.2").LastSeen;
        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.True(await _nodes.SeenAsync("10.0.0.2", CancellationToken.None));
        Assert.False(await _nodes.SeenAsync("10.0.0.9", CancellationToken.None));

        Assert.Equal(firstSeen + TimeSpan.FromSeconds(30), (await _store.AllAsync()).Single(n => n.Address == "10.0.0.2").LastSeen);
        Assert.Equal([(Self, true), ("10.0.0.2", false)], await TableAsync());
        Assert.Null(_nodes.Find("10.0.0.9"));
    }

    /// <summary>Makes a fake client per remote node and keeps them, so a test can see which client the directory hands out.</summary>
    private sealed class RemoteNodes : IRemoteNodeFactory
    {
        public Dictionary<string, INodeClient> Made { get; } = new(StringComparer.Ordinal);

        public INodeClient For(string address) => Made[address] = new FakeNode(address);
    }

    [Fact]
    public async Task A_peer_that_leaves_leaves_the_capability_view_too_however_it_was_found_gone()
    {
        await _nodes.ResetAsync(CancellationToken.None);
        await AddAsync("10.0.0.2", "10.0.0.3");
        _view.Set("10.0.0.2", [new Capability("lab", "hardware")], DateTimeOffset.UnixEpoch);
        _view.Set("10.0.0.3", [new Capability("lab", "hardware")], DateTimeOffset.UnixEpoch);

        await _nodes.RemoveAsync("10.0.0.2", CancellationToken.None);
        _nodes.BeginResync();
        await _nodes.RemoveUnconfirmedAsync("10.0.0.3", CancellationToken.None);

        Assert.Empty(_view.Addresses);
    }
}
