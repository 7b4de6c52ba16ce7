using System.Collections.Concurrent;
using Motey.Host.Core.Events;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;

namespace Motey.Host.Core.Membership;

/// <summary>
/// The nodes this node knows, itself included: kept in memory for placement and mirrored to the store
/// for GET /v1/nodes, whose table it owns. Membership (MQTT) adds and removes peers, and the direct checks (ZeroMQ)
/// drop the peers that were not heard on the current broker connection and stop answering; the orchestrator reaches
/// them through clients. Changes to a peer are serialised, so the directory and the table never disagree about it.
/// A peer that leaves, however it is found gone, leaves the <see cref="CapabilityView"/> too: placement never judges a
/// node that is no member from what it once published.
/// </summary>
public sealed class ClusterNodes(
    NodeIdentity identity, INodeStore repository, LocalNode local, IRemoteNodeFactory remotes, ClusterChanges? changes = null,
    EventHub? events = null, CapabilityView? view = null)
    : IPeerDirectory, IDisposable
{
    private readonly ConcurrentDictionary<string, INodeClient> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _heard = new(StringComparer.Ordinal);

    /// <summary>Unconfirmed peers; the value says whether one direct answer confirms it (a node known only from old news, a retained presence).</summary>
    private readonly ConcurrentDictionary<string, bool> _unconfirmed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Bumped whenever a peer is added or removed: the ordered list below is good while it has not moved.</summary>
    private long _version;

    /// <summary>
    /// The peers in address order as of <see cref="Snapshot.Version"/>. Placement reads the list once per image: sorting
    /// a thousand members each time cost more than everything else a placement does here, and members change far less
    /// often than images are placed.
    /// </summary>
    private volatile Snapshot? _ordered;

    private sealed record Snapshot(long Version, Task<IReadOnlyList<INodeClient>> Peers);

    /// <summary>At start: the nodes of the last run are forgotten (they announce themselves again); this node is listed.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _peers.Clear();
            Interlocked.Increment(ref _version);
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

    /// <summary>Known peers not heard on the current broker connection (every peer while no broker answers): membership cannot vouch for them.</summary>
    public IReadOnlyCollection<string> UnconfirmedAddresses => _unconfirmed.Keys.ToList();

    /// <summary>Whether <paramref name="address"/> is a known peer.</summary>
    public bool IsKnown(string address) => _peers.ContainsKey(address);

    /// <summary>Whether <paramref name="address"/> is a peer not heard on the current broker connection.</summary>
    public bool IsUnconfirmed(string address) => _unconfirmed.ContainsKey(address);

    /// <summary>The known peers in address order: one shared list, made again only after a peer joined or left.</summary>
    public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken)
    {
        var version = Interlocked.Read(ref _version);
        if (_ordered is { } kept && kept.Version == version) return kept.Peers;
        // ToArray is the dictionary's own atomic snapshot. LINQ straight on the dictionary sizes its buffer by Count and
        // then copies: a peer leaving in between left a default entry, a null client, in the list (found by PeerFaultTests).
        // A change during the copy bumps the version past the one kept with it: the next call sorts again.
        var ordered = Task.FromResult<IReadOnlyList<INodeClient>>(
            _peers.ToArray().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToArray());
        _ordered = new Snapshot(version, ordered);
        return ordered;
    }

    public INodeClient? Find(string address) =>
        address == identity.Address ? local : _peers.GetValueOrDefault(address);

    /// <summary>Adds a peer that announced itself (it is confirmed); false when it is this node or already known (its last-seen time is refreshed).</summary>
    public Task<bool> AddAsync(string address, CancellationToken cancellationToken) =>
        address == identity.Address ? Task.FromResult(false) : UnderGateAsync(() =>
        {
            _unconfirmed.TryRemove(address, out _);
            _heard[address] = 0;
            return PutAsync(address, refresh: true, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Adds a peer known only from old news (a presence the broker retained, which may be a dead node's that nobody
    /// cleared): it is listed, but unconfirmed until it answers a direct check (<see cref="ConfirmAnsweredAsync"/>). A
    /// peer already confirmed stays confirmed; one unconfirmed since the broker was lost is now confirmed by an answer
    /// too (old news of it counts as much as an announcement would). False when it is this node or already known.
    /// </summary>
    public Task<bool> AddUnconfirmedAsync(string address, CancellationToken cancellationToken) =>
        address == identity.Address ? Task.FromResult(false) : UnderGateAsync(() =>
        {
            if (!_peers.ContainsKey(address) || _unconfirmed.ContainsKey(address)) _unconfirmed[address] = true;
            return PutAsync(address, refresh: false, cancellationToken);
        }, cancellationToken);

    /// <summary>Under the gate: adds the peer's client when it is new (told as a join); writes its last-seen time when new or <paramref name="refresh"/>.</summary>
    private async Task<bool> PutAsync(string address, bool refresh, CancellationToken cancellationToken)
    {
        var added = _peers.TryAdd(address, remotes.For(address));
        if (added) Interlocked.Increment(ref _version);
        if (added || refresh) await repository.UpsertAsync(address, isSelf: false, cancellationToken);
        if (added)
        {
            changes?.Notify();
            events?.NodeChanged(address, joined: true);
        }
        return added;
    }

    /// <summary>
    /// A known peer whose presence was cleared while this node did not hear it leave, or that let a request time out:
    /// unconfirmed until it answers a direct check (a live one answers at once; a dead one is dropped by the checks).
    /// True when it was confirmed until now; one already unconfirmed stays as it was (one unconfirmed since the broker
    /// was lost still has to announce itself).
    /// </summary>
    public bool Suspect(string address)
    {
        if (!_peers.ContainsKey(address) || !_unconfirmed.TryAdd(address, true)) return false;
        // Removed meanwhile (outside the gate): no check for a node that is not listed.
        if (_peers.ContainsKey(address)) return true;
        _unconfirmed.TryRemove(new KeyValuePair<string, bool>(address, true));
        return false;
    }

    /// <summary>
    /// A direct check of <paramref name="address"/> was answered: an unconfirmed peer known from old news or suspected
    /// is confirmed, and heard from now (true); one unconfirmed because the broker was lost stays so until it announces
    /// itself on the broker.
    /// </summary>
    public Task<bool> ConfirmAnsweredAsync(string address, CancellationToken cancellationToken) =>
        UnderGateAsync(async () =>
        {
            if (!_peers.ContainsKey(address) || !((ICollection<KeyValuePair<string, bool>>)_unconfirmed).Remove(new(address, true))) return false;
            _heard[address] = 0;
            await repository.UpsertAsync(address, isSelf: false, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> RemoveAsync(string address, CancellationToken cancellationToken) =>
        address == identity.Address ? Task.FromResult(false) : UnderGateAsync(() => RemoveKnownAsync(address, cancellationToken), cancellationToken);

    /// <summary>Removes the peer only if it is still unconfirmed: one that announced itself meanwhile stays.</summary>
    public Task<bool> RemoveUnconfirmedAsync(string address, CancellationToken cancellationToken) =>
        UnderGateAsync(() => _unconfirmed.ContainsKey(address) ? RemoveKnownAsync(address, cancellationToken) : Task.FromResult(false), cancellationToken);

    /// <summary>The peer was heard from (it answered a request): its last-seen time becomes now. False when it is not a known peer, which stays unknown.</summary>
    public Task<bool> SeenAsync(string address, CancellationToken cancellationToken) =>
        UnderGateAsync(async () =>
        {
            if (!_peers.ContainsKey(address)) return false;
            await repository.UpsertAsync(address, isSelf: false, cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// After the broker connection was lost or changed: every known peer must announce itself again on the broker.
    /// Until it does it stays known, so a broker blip does not make the orchestrator think its instances are gone, and
    /// it is unconfirmed: the direct checks ask it over ZeroMQ and drop it when it stops answering.
    /// </summary>
    public void BeginResync()
    {
        foreach (var address in _peers.Keys) _unconfirmed[address] = false;
    }

    /// <summary>
    /// Whether this node heard <paramref name="address"/> alive since it was listed: it announced itself on the broker or
    /// answered a direct check. A dropped peer that was heard may be alive where this node cannot reach it (this node
    /// lacks the cluster key, a firewall between the two): what it published is its own and is not cleared.
    /// </summary>
    public bool WasHeard(string address) => _heard.ContainsKey(address);

    private async Task<bool> RemoveKnownAsync(string address, CancellationToken cancellationToken)
    {
        _unconfirmed.TryRemove(address, out _);
        _heard.TryRemove(address, out _);
        var removed = _peers.TryRemove(address, out _);
        if (removed) Interlocked.Increment(ref _version);
        view?.Forget(address);
        await repository.RemoveAsync(address, cancellationToken);
        if (removed) events?.NodeChanged(address, joined: false);
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
