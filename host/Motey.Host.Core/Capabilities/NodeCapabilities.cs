using Microsoft.Extensions.Logging;
using Motey.Host.Core.Model;
using Motey.Host.Core.Placement;

namespace Motey.Host.Core.Capabilities;

/// <summary>
/// The one owner of this node's capabilities and of their rules. Operators change <em>their</em> capabilities
/// (REST, capability events, the CLI through events); capabilities of type <c>plugin</c> mirror which VALs are
/// active and their engines reachable, so only the plugin catalog changes them, through the engine members.
/// </summary>
/// <remarks>
/// Capabilities are keyed by name, as in the original Motey (<c>has_capability(name)</c>): adding a name the node has,
/// with any type, changes nothing; removing needs the name and the type. An engine's <c>plugin</c> entry takes over an
/// operator's entry of the same name when its VAL activates (the engine is a fact), and no operator change touches it;
/// when the engine goes, the operator's entry comes back (unless the operator removed it meanwhile).
/// </remarks>
public sealed class NodeCapabilities(ICapabilityStore store, ClusterChanges? clusterChanges = null, ILogger<NodeCapabilities>? log = null)
{
    /// <summary>Why an operator may not change <paramref name="capability"/>; null when they may.</summary>
    public static string? Refusal(Capability capability) =>
        capability.Type == Capability.PluginType
            ? $"capabilities of type '{Capability.PluginType}' are managed by the plugin catalog"
            : null;

    /// <summary>The capabilities of <paramref name="list"/> an operator may not change, with their index and why.</summary>
    public static IReadOnlyList<(int Index, string Problem)> Refusals(IReadOnlyList<Capability> list) =>
        list.Select((c, i) => (Index: i, Problem: Refusal(c))).Where(x => x.Problem is not null).Select(x => (x.Index, x.Problem!)).ToList();

    /// <summary>Every capability of the node, engines included.</summary>
    public Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken) => store.AllAsync(cancellationToken);

    /// <summary>An operator adds capabilities; returns how many were new. Throws for a list <see cref="Refusals"/> refuses.</summary>
    public Task<int> AddAsync(IReadOnlyList<Capability> list, CancellationToken cancellationToken)
    {
        EnsureOperatorMay(list);
        return GrewAsync(store.AddAsync(list, cancellationToken));
    }

    /// <summary>An operator removes capabilities; returns how many existed. Throws for a list <see cref="Refusals"/> refuses.</summary>
    public Task<int> RemoveAsync(IReadOnlyList<Capability> list, CancellationToken cancellationToken)
    {
        EnsureOperatorMay(list);
        return store.RemoveAsync(list, cancellationToken);
    }

    /// <summary>Operator changes applied in order in one transaction (a burst of capability events); how many each changed.</summary>
    public async Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken)
    {
        foreach (var change in changes) EnsureOperatorMay(change.List);
        var applied = await store.ApplyAsync(changes, cancellationToken);
        if (changes.Where((c, i) => c.IsAdd && applied[i] > 0).Any()) clusterChanges?.Notify();
        return applied;
    }

    /// <summary>
    /// The plugin catalog: the engine's VAL is active and its engine answers. Its <c>plugin</c> entry takes over an entry
    /// of the same name an operator added with another type (said in the log). Returns 1 when the entry is new or took over.
    /// </summary>
    public async Task<int> RegisterEngineAsync(string engine, CancellationToken cancellationToken)
    {
        var result = await store.ReplaceAsync(Engine(engine), cancellationToken);
        if (result.Replaced is { } replaced)
        {
            log?.LogInformation("Engine {Engine} is active: its plugin capability takes over capability {Capability} of type {Type} until the engine goes",
                engine, replaced.Name, replaced.Type);
        }
        if (!result.Changed) return 0;
        clusterChanges?.Notify();
        return 1;
    }

    /// <summary>Images waiting for a node may run here now when something was added.</summary>
    private async Task<int> GrewAsync(Task<int> add)
    {
        var added = await add;
        if (added > 0) clusterChanges?.Notify();
        return added;
    }

    /// <summary>The plugin catalog: the engine's VAL was deactivated, or its engine stopped answering.</summary>
    public Task<int> WithdrawEngineAsync(string engine, CancellationToken cancellationToken) =>
        store.RemoveAsync([Engine(engine)], cancellationToken);

    /// <summary>At start: the engines registered by the last run are withdrawn until their plugins are active again.</summary>
    public Task<int> WithdrawAllEnginesAsync(CancellationToken cancellationToken) =>
        store.RemoveAllOfTypeAsync(Capability.PluginType, cancellationToken);

    /// <summary>The capability an active VAL's engine is registered as.</summary>
    public static Capability Engine(string engine) => new(engine, Capability.PluginType);

    private static void EnsureOperatorMay(IReadOnlyList<Capability> list)
    {
        if (Refusals(list) is [var first, ..])
            throw new ArgumentException($"capability '{list[first.Index].Name}': {first.Problem}", nameof(list));
    }
}
