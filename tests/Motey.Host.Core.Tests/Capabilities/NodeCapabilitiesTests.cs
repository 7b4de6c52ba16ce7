using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Capabilities;

/// <summary>
/// The rules of a node's capabilities: keyed by name, as in the original; operators change theirs, the plugin catalog
/// alone changes the engines, and an engine takes over an operator's entry of its name.
/// </summary>
public sealed class NodeCapabilitiesTests
{
    private const string Managed = "capabilities of type 'plugin' are managed by the plugin catalog";

    private static readonly Capability Gpu = new("gpu", "hardware");
    private static readonly Capability Camera = new("camera", "api");
    private static readonly Capability Docker = new("docker", Capability.PluginType);

    private readonly InMemoryCapabilityStore _store = new(Gpu, Docker);
    private readonly NodeCapabilities _capabilities;

    public NodeCapabilitiesTests() => _capabilities = new NodeCapabilities(_store);

    private Task<IReadOnlyList<Capability>> AllAsync() => _capabilities.AllAsync(CancellationToken.None);

    [Fact]
    public void An_operator_may_change_any_capability_but_one_of_type_plugin()
    {
        Assert.Null(NodeCapabilities.Refusal(Gpu));
        Assert.Null(NodeCapabilities.Refusal(new Capability("plugins", "api")));
        Assert.Equal(Managed, NodeCapabilities.Refusal(Docker));
    }

    [Fact]
    public void Refusals_name_the_index_of_every_refused_capability()
    {
        var refusals = NodeCapabilities.Refusals([Gpu, Docker, Camera, new Capability("process", Capability.PluginType)]);

        Assert.Equal([(1, Managed), (3, Managed)], refusals);
        Assert.Empty(NodeCapabilities.Refusals([Gpu, Camera]));
    }

    [Fact]
    public async Task An_operator_adds_capabilities_and_learns_how_many_were_new()
    {
        Assert.Equal(1, await _capabilities.AddAsync([Gpu, Camera], CancellationToken.None));

        Assert.Equal([Camera, Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task Adding_a_list_with_a_plugin_capability_is_refused_whole_and_changes_nothing()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => _capabilities.AddAsync([Camera, new Capability("process", Capability.PluginType)], CancellationToken.None));

        Assert.StartsWith($"capability 'process': {Managed}", refused.Message);
        Assert.Equal([Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task Removing_an_engine_as_an_operator_is_refused_and_the_engine_stays()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => _capabilities.RemoveAsync([Gpu, Docker], CancellationToken.None));

        Assert.StartsWith($"capability 'docker': {Managed}", refused.Message);
        Assert.Equal([Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task A_burst_of_changes_with_one_refused_change_applies_none()
    {
        CapabilityChange[] burst = [new(true, [Camera]), new(false, [Gpu]), new(false, [Docker])];

        await Assert.ThrowsAsync<ArgumentException>(() => _capabilities.ApplyAsync(burst, CancellationToken.None));

        Assert.Equal([Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task A_burst_of_operator_changes_is_applied_in_order()
    {
        CapabilityChange[] burst = [new(true, [Camera]), new(false, [Camera, Gpu]), new(true, [Gpu])];

        var counts = await _capabilities.ApplyAsync(burst, CancellationToken.None);

        Assert.Equal([1, 2, 1], counts);
        Assert.Equal([Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task The_plugin_catalog_registers_and_withdraws_engines()
    {
        Assert.Equal(1, await _capabilities.RegisterEngineAsync("process", CancellationToken.None));
        Assert.Equal(0, await _capabilities.RegisterEngineAsync("process", CancellationToken.None));
        Assert.Contains(new Capability("process", Capability.PluginType), await AllAsync());
        Assert.Equal(NodeCapabilities.Engine("process"), new Capability("process", Capability.PluginType));

        Assert.Equal(1, await _capabilities.WithdrawEngineAsync("docker", CancellationToken.None));

        Assert.Equal([Gpu, NodeCapabilities.Engine("process")], await AllAsync());
    }

    [Fact]
    public async Task At_start_every_engine_of_the_last_run_is_withdrawn_and_the_operators_capabilities_stay()
    {
        await _capabilities.RegisterEngineAsync("process", CancellationToken.None);

        Assert.Equal(2, await _capabilities.WithdrawAllEnginesAsync(CancellationToken.None));

        Assert.Equal([Gpu], await AllAsync());
    }

    [Fact]
    public async Task Adding_a_known_name_with_another_type_changes_nothing()
    {
        Assert.Equal(0, await _capabilities.AddAsync([new Capability("gpu", "api")], CancellationToken.None));
        Assert.Equal(0, await _capabilities.AddAsync([new Capability("docker", "hardware")], CancellationToken.None));

        Assert.Equal([Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task Of_two_new_entries_of_one_name_in_a_list_the_first_is_added()
    {
        Assert.Equal(1, await _capabilities.AddAsync([new Capability("camera", "hardware"), Camera], CancellationToken.None));

        Assert.Equal([new Capability("camera", "hardware"), Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task Removing_needs_the_name_and_the_type()
    {
        Assert.Equal(0, await _capabilities.RemoveAsync([new Capability("gpu", "api")], CancellationToken.None));
        Assert.Equal([Gpu, Docker], await AllAsync());

        Assert.Equal(1, await _capabilities.RemoveAsync([Gpu], CancellationToken.None));
        Assert.Equal([Docker], await AllAsync());
    }

    [Fact]
    public async Task A_burst_of_events_follows_the_same_rules()
    {
        CapabilityChange[] burst = [new(true, [new Capability("gpu", "api")]), new(false, [new Capability("gpu", "api")]), new(true, [Camera])];

        var counts = await _capabilities.ApplyAsync(burst, CancellationToken.None);

        Assert.Equal([0, 0, 1], counts);
        Assert.Equal([Camera, Gpu, Docker], await AllAsync());
    }

    [Fact]
    public async Task An_engine_that_activates_takes_over_an_operators_entry_of_its_name_until_it_goes()
    {
        var operators = new Capability("simulated", "hardware");
        var store = new InMemoryCapabilityStore(operators, Gpu);
        var capabilities = new NodeCapabilities(store);

        Assert.Equal(1, await capabilities.RegisterEngineAsync("simulated", CancellationToken.None));
        Assert.Equal(0, await capabilities.RegisterEngineAsync("simulated", CancellationToken.None));

        Assert.Equal([Gpu, NodeCapabilities.Engine("simulated")], await store.AllAsync());
        // The operator cannot add the name back under their type: the engine's entry stands over theirs.
        Assert.Equal(0, await capabilities.AddAsync([operators], CancellationToken.None));
        Assert.Equal([Gpu, NodeCapabilities.Engine("simulated")], await store.AllAsync());

        // The engine goes: the operator's entry is back.
        Assert.Equal(1, await capabilities.WithdrawEngineAsync("simulated", CancellationToken.None));
        Assert.Equal([Gpu, operators], await store.AllAsync());
    }

    [Fact]
    public async Task An_operators_entry_removed_while_an_engine_stood_over_it_does_not_come_back()
    {
        var operators = new Capability("simulated", "hardware");
        var store = new InMemoryCapabilityStore(operators, Gpu);
        var capabilities = new NodeCapabilities(store);
        await capabilities.RegisterEngineAsync("simulated", CancellationToken.None);

        Assert.Equal(1, await capabilities.RemoveAsync([operators], CancellationToken.None));
        Assert.Equal([Gpu, NodeCapabilities.Engine("simulated")], await store.AllAsync());
        await capabilities.WithdrawAllEnginesAsync(CancellationToken.None);

        Assert.Equal([Gpu], await store.AllAsync());
    }
}
