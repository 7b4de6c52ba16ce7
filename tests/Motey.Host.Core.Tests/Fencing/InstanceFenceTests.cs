using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Fencing;

/// <summary>
/// The running node's side of the fence: a real local node over a VAL in memory, a placing peer that answers from a
/// store of its own, and a clock the test moves.
/// </summary>
public sealed class InstanceFenceTests
{
    private const string Self = "10.0.0.3";
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);

    private readonly FakeVal _val = new();
    private readonly FakeServiceStore _peerStore = new();
    private readonly FakeServiceStore _ownStore = new();
    private readonly FakeNode _placing = new("10.0.0.2");
    private readonly FakeDirectory _directory;
    private readonly ManualClock _clock = new();
    private readonly InstanceFence _fence;

    public InstanceFenceTests()
    {
        _placing.Ownership = new InstanceOwnership(_peerStore);
        _directory = new FakeDirectory([_placing]);
        var identity = new NodeIdentity(Self);
        var local = new LocalNode(identity, new InMemoryCapabilityStore(), new FakeEngines(_val), new LocalNodeSettings(TimeSpan.FromSeconds(5)));
        var settings = new OrchestratorSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)) { OrphanGrace = Grace };
        _fence = new InstanceFence(local, _directory, new InstanceOwnership(_ownStore), identity, settings, _clock, NullLogger<InstanceFence>.Instance);
    }

    private string Run(string serviceId, string placedBy = "10.0.0.2", int generation = 1) =>
        _val.Add(InstanceLabelSet.For(serviceId, 0, Self, placedBy, generation), ImageState.Running);

    /// <summary>An instance another agent created on the engine this node shares with it (two nodes on one host).</summary>
    private string RunOf(string node, string serviceId, string placedBy) =>
        _val.Add(InstanceLabelSet.For(serviceId, 0, node, placedBy, 1), ImageState.Running);

    private static Service Service(string id, string? node, string instanceId, ImageState state = ImageState.Running) => new()
    {
        Id = id, ServiceName = id,
        Images = [new Image { Name = "sensor", Engine = "fake", Node = node, Id = instanceId, State = state, Generation = 1 }],
    };

    private bool Runs(string id) => _val.StateOf(id) == ImageState.Running;

    [Fact]
    public async Task An_instance_its_placing_node_moved_elsewhere_while_this_node_was_away_is_stopped_and_the_one_it_names_is_kept()
    {
        var moved = Run("moved");
        var kept = Run("kept");
        await _peerStore.AddAsync(Service("moved", "10.0.0.4", "other-1"));
        await _peerStore.AddAsync(Service("kept", Self, kept));

        Assert.Equal(1, await _fence.CheckAsync(CancellationToken.None));

        Assert.False(Runs(moved));
        Assert.True(Runs(kept));
    }

    [Fact]
    public async Task An_instance_of_a_service_deleted_while_this_node_was_away_is_stopped()
    {
        var orphan = Run("deleted");

        await _fence.CheckAsync(CancellationToken.None);

        Assert.False(Runs(orphan));
    }

    [Fact]
    public async Task An_instance_this_node_placed_itself_is_judged_by_its_own_store()
    {
        var mine = Run("mine", placedBy: Self);
        var ended = Run("ended", placedBy: Self);
        await _ownStore.AddAsync(Service("mine", Self, mine));
        await _ownStore.AddAsync(Service("ended", Self, ended, ImageState.Terminated));

        await _fence.CheckAsync(CancellationToken.None);

        Assert.True(Runs(mine));
        Assert.False(Runs(ended));
    }

    [Fact]
    public async Task An_instance_whose_placing_node_left_runs_for_the_grace_and_is_stopped_after_it()
    {
        var instance = Run("svc");
        _directory.Remove(_placing.Address);

        await _fence.CheckAsync(CancellationToken.None);
        _clock.Advance(Grace - TimeSpan.FromSeconds(1));
        await _fence.CheckAsync(CancellationToken.None);
        Assert.True(Runs(instance));

        _clock.Advance(TimeSpan.FromSeconds(2));
        await _fence.CheckAsync(CancellationToken.None);
        Assert.False(Runs(instance));
    }

    [Fact]
    public async Task A_placing_node_that_answers_again_within_the_grace_starts_a_new_grace()
    {
        var instance = Run("svc");
        await _peerStore.AddAsync(Service("svc", Self, instance));
        _placing.Unreachable = true;

        await _fence.CheckAsync(CancellationToken.None);
        _clock.Advance(Grace - TimeSpan.FromSeconds(1));
        _placing.Unreachable = false;
        await _fence.CheckAsync(CancellationToken.None);
        _placing.Unreachable = true;
        _clock.Advance(Grace - TimeSpan.FromSeconds(1));
        await _fence.CheckAsync(CancellationToken.None);

        Assert.True(Runs(instance));
    }

    [Fact]
    public async Task A_placing_node_without_an_opinion_changes_nothing()
    {
        _placing.Ownership = null;
        var instance = Run("svc");

        _clock.Advance(Grace * 3);
        Assert.Equal(0, await _fence.CheckAsync(CancellationToken.None));

        Assert.True(Runs(instance));
    }

    [Fact]
    public async Task The_instances_another_node_runs_on_a_shared_engine_are_kept_while_their_placing_nodes_name_that_node()
    {
        var placedHere = RunOf("10.0.0.4", "remote", placedBy: Self);
        var placedByPeer = RunOf("10.0.0.4", "theirs", placedBy: _placing.Address);
        await _ownStore.AddAsync(Service("remote", "10.0.0.4", placedHere));
        await _peerStore.AddAsync(Service("theirs", "10.0.0.4", placedByPeer));

        Assert.Equal(0, await _fence.CheckAsync(CancellationToken.None));

        Assert.True(Runs(placedHere));
        Assert.True(Runs(placedByPeer));
    }

    [Fact]
    public async Task A_second_instance_a_dead_node_left_on_a_shared_engine_is_stopped_once_its_image_runs_elsewhere()
    {
        var left = RunOf("10.0.0.4", "moved", placedBy: Self);
        await _ownStore.AddAsync(Service("moved", "10.0.0.5", "other-1"));

        Assert.Equal(1, await _fence.CheckAsync(CancellationToken.None));

        Assert.False(Runs(left));
    }

    [Fact]
    public async Task An_instance_another_node_runs_on_a_shared_engine_is_never_stopped_as_nobodys()
    {
        // An agent of another cluster on the same engine: its placing node is not in this node's cluster.
        var foreign = RunOf("10.0.0.9", "elsewhere", placedBy: "10.0.0.8");

        await _fence.CheckAsync(CancellationToken.None);
        _clock.Advance(Grace * 3);
        Assert.Equal(0, await _fence.CheckAsync(CancellationToken.None));

        Assert.True(Runs(foreign));
    }

    [Fact]
    public async Task An_instance_this_node_created_under_a_former_address_is_stopped_as_nobodys_after_the_grace()
    {
        // The node was 10.0.0.7 before a reboot gave it another address: what it placed on itself then is its own, and
        // its placing node (itself, under the old address) can never answer; another agent's instance is not.
        var former = RunOf("10.0.0.7", "before-reboot", placedBy: "10.0.0.7");
        var foreign = RunOf("10.0.0.9", "elsewhere", placedBy: "10.0.0.9");
        var identity = new NodeIdentity(Self) { FormerAddresses = new HashSet<string> { "10.0.0.7" } };
        var local = new LocalNode(identity, new InMemoryCapabilityStore(), new FakeEngines(_val), new LocalNodeSettings(TimeSpan.FromSeconds(5)));
        var settings = new OrchestratorSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)) { OrphanGrace = Grace };
        var fence = new InstanceFence(local, _directory, new InstanceOwnership(_ownStore), identity, settings, _clock, NullLogger<InstanceFence>.Instance);

        Assert.Equal(0, await fence.CheckAsync(CancellationToken.None));
        Assert.True(Runs(former));
        _clock.Advance(Grace + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await fence.CheckAsync(CancellationToken.None));

        Assert.False(Runs(former));
        Assert.True(Runs(foreign));
    }

    [Fact]
    public async Task Instances_without_a_placing_node_are_left_alone()
    {
        var legacy = _val.Add(InstanceLabelSet.For("old", 0, Self), ImageState.Running);
        var foreign = _val.Add(new Dictionary<string, string>(), ImageState.Running);

        Assert.Equal(0, await _fence.CheckAsync(CancellationToken.None));

        Assert.True(Runs(legacy));
        Assert.True(Runs(foreign));
    }

    [Fact]
    public async Task An_engine_that_does_not_answer_does_not_stop_the_fence_for_the_instances_of_the_others()
    {
        var orphan = Run("deleted");
        var down = new FakeVal { PluginType = "docker", FailIn = nameof(FakeVal.GetRunningInstancesAsync) };
        var local = new LocalNode(new NodeIdentity(Self), new InMemoryCapabilityStore(), new FakeEngines(_val, down), new LocalNodeSettings(TimeSpan.FromSeconds(5)));
        var settings = new OrchestratorSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)) { OrphanGrace = Grace };
        var fence = new InstanceFence(local, _directory, new InstanceOwnership(_ownStore), new NodeIdentity(Self), settings, _clock, NullLogger<InstanceFence>.Instance);

        Assert.Equal(1, await fence.CheckAsync(CancellationToken.None));

        Assert.False(Runs(orphan));
    }
}
