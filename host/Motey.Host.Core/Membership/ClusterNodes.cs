using System.Collections.Concurrent;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;

namespace Motey.Host.Core.Membership;

/// <summary>
/// The nodes this node knows, itself included: kept in memory for placement and mirrored to the store
/// for GET /v1/nodes, whose table it owns. Membership (MQTT) adds and removes peers; the orchestrator reaches them
/// through clients. Changes to a peer are serialised, so the directory and the table never disagree about it.
/// </summary>
public sealed class ClusterNodes(
    NodeIdentity identity, INodeStore repository, LocalNode local, IRemoteNodeFactory remotes, ClusterChanges? changes = null)
    : IPeerDirectory, IDisposable
{
    private readonly ConcurrentDictionary<string, INodeClient> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _unconfirmed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>At start: the nodes of the last run are forgotten (they announce themselves again); this node is listed.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _peers.Clear();
            _unconfirmed.Clear();
            await repository.ClearAsync(cancellationToken);
            await repository.UpsertAsync(identity.Address, isSelf: true, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public IReadOnlyCollection<string> PeerAddresses => _peers.Keys.ToList();

    public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken) =>
        // ToArray is the dictionary's own atomic snapshot. LINQ straight on the dictionary sizes its buffer by Count and
        // then copies: a peer leaving in between left a default entry, a null client, in the list (found by PeerFaultTests).
        Task.FromResult<IReadOnlyList<INodeClient>>(_peers.ToArray().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToList());

    public INodeClient? Find(string address) =>
        address == identity.Address ? local : _peers.GetValueOrDefault(address);

    /// <summary>Adds a peer; false when it is this node or already known (its last-seen time is refreshed).</summary>
    public Task<bool> AddAsync(string address, CancellationToken cancellationToken) =>
        address == identity.Address ? Task.FromResult(false) : UnderGateAsync(async () =>
        {
            _unconfirmed.TryRemove(address, out _);
            var added = _peers.TryAdd(address, remotes.For(address));
            await repository.UpsertAsync(address, isSelf: false, cancellationToken);
            if (added) changes?.Notify();
            return added;
        }, cancellationToken);

    public Task<bool> RemoveAsync(string address, CancellationToken cancellationToken) =>
        address == identity.Address ? Task.FromResult(false) : UnderGateAsync(() => RemoveKnownAsync(address, cancellationToken), cancellationToken);

    /// <summary>The peer was heard from (it answered a request): its last-seen time becomes now. False when it is not a known peer, which stays unknown.</summary>
    public Task<bool> SeenAsync(string address, CancellationToken cancellationToken) =>
        UnderGateAsync(async () =>
        {
            if (!_peers.ContainsKey(address)) return false;
            await repository.UpsertAsync(address, isSelf: false, cancellationToken);
            return true;
        }, cancellationToken);

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

    private async Task<bool> RemoveKnownAsync(string address, CancellationToken cancellationToken)
    {
        _unconfirmed.TryRemove(address, out _);
        var removed = _peers.TryRemove(address, out _);
        await repository.RemoveAsync(address, cancellationToken);
        return removed;
    }

    private async Task<T> UnderGateAsync<T>(Func<Task<T>> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await change();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
