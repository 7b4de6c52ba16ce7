using System.Collections.Concurrent;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;

namespace Motey.Host.Core.Membership;

/// <summary>
/// The nodes this node knows, itself included: kept in memory for placement and mirrored to the store
/// for GET /v1/nodes, whose table it owns. Membership (MQTT) adds and removes peers; the orchestrator reaches them
/// through clients.
/// </summary>
public sealed class ClusterNodes(
    NodeIdentity identity, INodeStore repository, LocalNode local, IRemoteNodeFactory remotes, ClusterChanges? changes = null)
    : IPeerDirectory
{
    private readonly ConcurrentDictionary<string, INodeClient> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _unconfirmed = new(StringComparer.Ordinal);

    /// <summary>At start: the nodes of the last run are forgotten (they announce themselves again); this node is listed.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        _peers.Clear();
        _unconfirmed.Clear();
        await repository.ClearAsync(cancellationToken);
        await repository.UpsertAsync(identity.Address, isSelf: true, cancellationToken);
    }

    public IReadOnlyCollection<string> PeerAddresses => _peers.Keys.ToList();

    public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken) =>
        // ToArray is the dictionary's own atomic snapshot. LINQ straight on the dictionary sizes its buffer by Count and
        // then copies: a peer leaving in between left a default entry, a null client, in the list (found by PeerFaultTests).
        Task.FromResult<IReadOnlyList<INodeClient>>(_peers.ToArray().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToList());

    public INodeClient? Find(string address) =>
        address == identity.Address ? local : _peers.GetValueOrDefault(address);

    /// <summary>Adds a peer; false when it is this node or already known (its last-seen time is refreshed).</summary>
    public async Task<bool> AddAsync(string address, CancellationToken cancellationToken)
    {
        if (address == identity.Address) return false;
        _unconfirmed.TryRemove(address, out _);
        var added = _peers.TryAdd(address, remotes.For(address));
        await repository.UpsertAsync(address, isSelf: false, cancellationToken);
        if (added) changes?.Notify();
        return added;
    }

    public async Task<bool> RemoveAsync(string address, CancellationToken cancellationToken)
    {
        if (address == identity.Address) return false;
        var removed = _peers.TryRemove(address, out _);
        await repository.RemoveAsync(address, cancellationToken);
        return removed;
    }

    /// <summary>
    /// Starts rebuilding membership (after a reconnect): every known peer must announce itself again.
    /// Until <see cref="EndResyncAsync"/> the peers stay known, so a broker blip does not make the
    /// orchestrator think their instances are gone.
    /// </summary>
    public void BeginResync()
    {
        foreach (var address in _peers.Keys) _unconfirmed[address] = true;
    }

    /// <summary>Forgets the peers that did not announce themselves since <see cref="BeginResync"/>; returns them.</summary>
    public async Task<IReadOnlyList<string>> EndResyncAsync(CancellationToken cancellationToken)
    {
        var gone = _unconfirmed.Keys.ToList();
        _unconfirmed.Clear();
        foreach (var address in gone) await RemoveAsync(address, cancellationToken);
        return gone;
    }
}
