using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Placement;

/// <summary>Where an image can run, or what no node offers.</summary>
/// <param name="NotAsked">Peers this node could not ask (its own limit): when above 0 and no node was found, nobody can say that no node can run it.</param>
public sealed record PlacementResult(INodeClient? Node, string? Problem, int NotAsked = 0);

/// <param name="PreferenceWait">How long a capable answer waits for earlier peers in the order, at most.</param>
public sealed record PlacementSettings(TimeSpan PreferenceWait)
{
    /// <summary>1 s, or the peers' request timeout when shorter.</summary>
    public static PlacementSettings For(TimeSpan requestTimeout) =>
        new(requestTimeout < TimeSpan.FromSeconds(1) ? requestTimeout : TimeSpan.FromSeconds(1));
}

/// <summary>
/// The seed's find_node and compare_capabilities: the local node when it has every capability the image
/// lists and an active VAL for its engine; else the first known peer, in the directory's order, that has them.
/// </summary>
/// <remarks>
/// <para>
/// A peer with an entry in the <see cref="CapabilityView"/> (what it published itself) is judged from that entry,
/// without a request; a peer without one (a node of the original Motey, or one whose publication has not arrived) is
/// asked the v1 capabilities request. A peer the view says can run the image is confirmed with one v1 request before
/// it is chosen (fresh truth, and the check that it is alive): when it answers that it lacks something, its entry is
/// forgotten and the search goes on; when it does not answer, it is silent and the search goes on with the next
/// candidate. At most <see cref="ViewCandidatesAtOnce"/> view candidates are confirmed at once, and at most
/// <see cref="MaxRequestsInFlight"/> requests of one placement are out at once, in the directory's order: a placement
/// never asks every node of a large cluster at once.
/// </para>
/// <para>
/// The choice does not wait for peers that cannot answer. A peer whose request failed, or went unanswered for
/// <see cref="PreferenceWait"/>, is silent: placements do not wait for it and it takes no place in their bound, and
/// it is asked by one request at a time, shared by every placement, and after a failed one not again for
/// <see cref="SilentRetry"/>, until it answers again (then it is preferred by its place in the order again). Once a
/// peer answered that it can run the image, earlier peers that have not answered
/// get at most four times as long as it took (at least <see cref="MinPreferenceWait"/>, at most
/// <see cref="PreferenceWait"/>), then they are silent too. So the order decides between live peers, and a dead peer
/// costs the placements of its first second a short wait at most, never a request timeout — also when no live peer
/// can run the image and the image only waits: "nobody" is said once every live peer answered, naming the silent ones
/// (an image left waiting is tried again when the cluster changes, and every wait_retry). Only a "nobody" that would be
/// final (<c>confirmLacking</c>: after a failed deploy, the image ends in ERROR) waits for every request still out: a
/// slow peer, or one this node could not ask yet, is not taken for one that cannot.
/// </para>
/// <para>
/// A request this node could not send (its own connection or socket limit, <see cref="LocalRequestException"/>) says
/// nothing about the peer: the peer is neither silent nor counted as unable, and the problem names this node's failure.
/// </para>
/// </remarks>
/// <param name="local">This node: asked first, in-process.</param>
/// <param name="peers">The other nodes, considered in their order.</param>
/// <param name="view">What the other nodes published about themselves; placement forgets an entry its node contradicts.</param>
/// <param name="settings">How long to wait for earlier peers.</param>
/// <param name="log">Where peers falling silent and coming back are told.</param>
public sealed class Placer(INodeClient local, IPeerDirectory peers, CapabilityView view, PlacementSettings settings, ILogger<Placer> log)
{
    /// <summary>
    /// Requests of one placement out at once (silent peers' shared requests aside). A cluster of original nodes is still
    /// asked in a few round trips; a placement among a thousand nodes never opens a thousand connections at once (each
    /// costs sockets and descriptors here, and the peers' answers all arrive together).
    /// </summary>
    public const int MaxRequestsInFlight = 64;

    /// <summary>
    /// View candidates confirmed at once, in order: a dead candidate does not cost the next one a round trip, and a
    /// placement does not ask many nodes it will not choose.
    /// </summary>
    public const int ViewCandidatesAtOnce = 3;

    /// <summary>
    /// The least an earlier peer is waited for once a later one answered that it can run the image: long enough that a
    /// live peer on a busy node keeps its place in the order (50 ms let later peers win on a loaded 2-core machine), short
    /// enough that a dead peer not known as silent yet costs a placement a quarter second, once.
    /// </summary>
    public static readonly TimeSpan MinPreferenceWait = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a silent peer whose request failed is not asked again by placements (a final "nobody" asks it anyway).
    /// Without it every placement re-asked every dead peer whose last request had ended: with 200 dead nodes among
    /// 1,000 and a 2 s request timeout, a hundred new requests (each a new connection, the last one retired by its
    /// timeout) a second while placing. A peer that comes back is preferred again within this, plus its request.
    /// </summary>
    public static readonly TimeSpan SilentRetry = TimeSpan.FromSeconds(5);

    private static readonly IReadOnlySet<string> Nobody = new HashSet<string>();

    private const string NoAnswerInTime = "no answer within the preference wait";

    /// <summary>Peers whose last capability request failed or was too slow, with why; waited for by nobody.</summary>
    private readonly ConcurrentDictionary<string, string> _silent = new(StringComparer.Ordinal);

    /// <summary>Silent peers whose request failed, with the <see cref="Stopwatch"/> time before which placements do not ask them again.</summary>
    private readonly ConcurrentDictionary<string, long> _quietUntil = new(StringComparer.Ordinal);

    /// <summary>The one request out to each peer, shared by every placement that meets the peer meanwhile (under <see cref="_gate"/>).</summary>
    private readonly Dictionary<string, Ask> _out = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>How long a capable answer waits for earlier peers in the order, at most.</summary>
    public TimeSpan PreferenceWait => settings.PreferenceWait;

    private CapabilityView View => view;
    private ILogger Log => log;

    public Task<PlacementResult> FindNodeAsync(Image image, CancellationToken cancellationToken) =>
        FindNodeAsync(image, Nobody, cancellationToken);

    /// <summary>As <see cref="FindNodeAsync(Image, CancellationToken)"/>, never choosing a node in <paramref name="excluded"/> (nodes where a deploy of this image just failed).</summary>
    /// <param name="confirmLacking">
    /// True when "nobody" would be final (the image ends in ERROR): peers whose published capabilities lack something are
    /// asked too, since what they published may be older than a change on its way (a capability added a moment ago).
    /// </param>
    public async Task<PlacementResult> FindNodeAsync(Image image, IReadOnlySet<string> excluded, CancellationToken cancellationToken,
        bool confirmLacking = false)
    {
        IReadOnlyList<string>? localMissing = null;
        if (!excluded.Contains(local.Address))
        {
            localMissing = Missing(image, await local.GetCapabilitiesAsync(cancellationToken));
            if (localMissing.Count == 0) return new PlacementResult(local, null);
        }

        var known = await peers.PeersAsync(cancellationToken);
        // Per placement, the work done for every member is a look-up or two, never a copy or an allocation: at a thousand
        // members that work was most of what a placement cost this node.
        foreach (var gone in _silent.Keys) if (peers.Find(gone) is null) _silent.TryRemove(gone, out _);
        foreach (var gone in _quietUntil.Keys) if (peers.Find(gone) is null) _quietUntil.TryRemove(gone, out _);
        var candidates = excluded.Count == 0 ? known : known.Where(p => !excluded.Contains(p.Address)).ToList();
        var search = await new Search(this, image, candidates, confirmLacking, cancellationToken).RunAsync();
        if (search.Node is not null) return new PlacementResult(search.Node, null);

        var problem = localMissing is null
            ? "no other node offers what the image needs"
            : $"no node offers what the image needs: node {local.Address} lacks {string.Join(", ", localMissing)}";
        if (search.Local.Count > 0)
        {
            // Not "nobody can": this node did not ask them. The image waits and is tried again.
            problem += $"; none of the {candidates.Count - search.Local.Count} other known nodes asked has all of them, and this node could not ask"
                + $" the other {search.Local.Count}: {search.Local[0]}";
        }
        else
        {
            problem += candidates.Count > 0 ? $"; none of the {candidates.Count} other known nodes has all of them"
                : known.Count > 0 ? "; no other node is left to try"
                : "; no other node is known";
        }
        // Each with its own reason: "did not answer" and "gave an unreadable answer" are different problems to fix.
        if (search.Silent.Count > 0)
            problem += $" ({search.Silent.Count} could not be asked: {string.Join("; ", search.Silent.Take(5).Select(a => _silent.GetValueOrDefault(a) ?? $"node {a} did not answer"))}{(search.Silent.Count > 5 ? "; ..." : "")})";
        return new PlacementResult(null, problem, search.Local.Count);
    }

    /// <summary>What one capability request ended with: the list, or why there is none.</summary>
    private sealed record Outcome(IReadOnlyList<Capability>? Offered, string? Failure, bool LocalFailure = false);

    /// <summary>One request to one peer: its outcome, and a signal when it went unanswered for the preference wait.</summary>
    private sealed class Ask
    {
        public Task<Outcome> Done { get; set; } = null!;
        public TaskCompletionSource Silenced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long Sent { get; } = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Asks <paramref name="peer"/> once; never throws. Keeps <see cref="_silent"/>: a peer unanswered for the preference
    /// wait becomes silent, one that answers stops being silent. Not cancelled by a placement that stops waiting: other
    /// placements may share it, and the request timeout bounds it (a stopping agent fails it at once).
    /// </summary>
    private async Task<Outcome> AskAsync(INodeClient peer, Ask ask)
    {
        await Task.Yield();  // every request of the round goes out before any answer is looked at; ask.Done is set
        try
        {
            var request = peer.GetCapabilitiesAsync(CancellationToken.None);
            IReadOnlyList<Capability> offered;
            try
            {
                offered = await request.WaitAsync(PreferenceWait);
            }
            catch (TimeoutException) when (!request.IsCompleted)
            {
                // Known as silent from now on, by every placement: none waits for it, and this request stays the one out to it.
                if (_silent.TryAdd(peer.Address, NoAnswerInTime)) log.LogDebug("Node {Node} has not answered within {Wait} s", peer.Address, PreferenceWait.TotalSeconds);
                ask.Silenced.TrySetResult();
                offered = await request;
            }
            _quietUntil.TryRemove(peer.Address, out _);
            if (_silent.TryRemove(peer.Address, out var before))
            {
                if (before == NoAnswerInTime) log.LogDebug("Node {Node} answered, late", peer.Address);
                else log.LogInformation("Node {Node} answers capability requests again", peer.Address);
            }
            return new Outcome(offered, null);
        }
        catch (LocalRequestException e)
        {
            // Not the peer's doing: the silence it was marked with while this node waited for a slot is taken back.
            _silent.TryRemove(new KeyValuePair<string, string>(peer.Address, NoAnswerInTime));
            log.LogWarning("Node {Node} was not asked for its capabilities: {Error}", peer.Address, e.Message);
            return new Outcome(null, e.Message, LocalFailure: true);
        }
        catch (Exception e)
        {
            var first = true;
            _silent.AddOrUpdate(peer.Address, e.Message, (_, before) => { first = before == NoAnswerInTime; return e.Message; });
            _quietUntil[peer.Address] = Stopwatch.GetTimestamp() + (long)(SilentRetry.TotalSeconds * Stopwatch.Frequency);
            if (first)
                log.LogWarning("Node {Node} did not tell its capabilities: {Error}; placements stop waiting for it until it answers", peer.Address, e.Message);
            else
                log.LogDebug("Node {Node} still does not tell its capabilities: {Error}", peer.Address, e.Message);
            return new Outcome(null, e.Message);
        }
        finally
        {
            lock (_gate)
            {
                if (_out.TryGetValue(peer.Address, out var current) && current == ask) _out.Remove(peer.Address);
            }
        }
    }

    /// <summary>
    /// The request out to <paramref name="peer"/>: the one already out (another placement's), else a new one. So a peer
    /// has one capability request out at a time whatever the number of placements, a dead one included.
    /// </summary>
    private Ask Join(INodeClient peer)
    {
        lock (_gate)
        {
            if (_out.TryGetValue(peer.Address, out var running)) return running;
            var ask = new Ask();
            _out[peer.Address] = ask;
            ask.Done = AskAsync(peer, ask);  // it yields at once: nothing runs under the lock
            return ask;
        }
    }

    /// <summary>Whether a node with these capabilities can run the image (<see cref="Missing"/> is empty), without allocating.</summary>
    public static bool Offers(Image image, IReadOnlyList<Capability> offered)
    {
        for (var i = 0; i < image.Capabilities.Count; i++)
        {
            if (!Lists(offered, image.Capabilities[i], type: null)) return false;
        }
        return Lists(offered, image.Engine, Capability.PluginType);
    }

    /// <summary>Whether <paramref name="offered"/> holds a capability named <paramref name="name"/> (of <paramref name="type"/> when given).</summary>
    private static bool Lists(IReadOnlyList<Capability> offered, string name, string? type)
    {
        for (var i = 0; i < offered.Count; i++)
        {
            if (offered[i].Name == name && (type is null || offered[i].Type == type)) return true;
        }
        return false;
    }

    /// <summary>
    /// A silent peer's request for this placement: the one out to it, none while it is quiet after a failed one (an
    /// ended "still silent" outcome; <paramref name="now"/> asks it anyway), else a new one.
    /// </summary>
    private Task<Outcome> Probe(INodeClient peer, bool now)
    {
        if (!now && _quietUntil.TryGetValue(peer.Address, out var until) && Stopwatch.GetTimestamp() < until)
        {
            lock (_gate)
            {
                if (_out.TryGetValue(peer.Address, out var running)) return running.Done;
            }
            return Task.FromResult(new Outcome(null, _silent.GetValueOrDefault(peer.Address) ?? NoAnswerInTime));
        }
        return Join(peer).Done;
    }

    /// <summary>What a node with these capabilities lacks for the image: listed capabilities by name, the engine as a plugin capability.</summary>
    public static IReadOnlyList<string> Missing(Image image, IReadOnlyCollection<Capability> offered)
    {
        var names = offered.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var missing = image.Capabilities.Where(c => !names.Contains(c)).Select(c => $"capability '{c}'").ToList();
        if (!offered.Contains(new Capability(image.Engine, Capability.PluginType)))
            missing.Add($"engine '{image.Engine}' (capability '{image.Engine}' of type plugin)");
        return missing;
    }

    /// <summary>One placement's walk through the candidates, in order.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
        "Never disposed on purpose: requests that outlive the placement still release its semaphore, whose wait handle is never made.")]
    private sealed class Search(Placer placer, Image image, IReadOnlyList<INodeClient> candidates, bool confirmLacking, CancellationToken cancellationToken)
    {
        private enum State { Unasked, FromView, Asking, Capable, Lacking, Silent, Local }

        private readonly State[] _state = new State[candidates.Count];
        private readonly Ask?[] _asks = new Ask?[candidates.Count];
        private readonly Task<Outcome>?[] _probes = new Task<Outcome>?[candidates.Count];
        private readonly bool[] _fromView = new bool[candidates.Count];
        private readonly SemaphoreSlim _changed = new(0);
        private int _next;  // the first candidate not started yet, in order
        private int _settled;  // every candidate before it is settled and not capable

        public async Task<(INodeClient? Node, List<string> Silent, List<string> Local)> RunAsync()
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                var address = candidates[i].Address;
                var entry = placer.View.Find(address);
                var lacking = entry is not null && !Offers(image, entry.Capabilities);
                if (lacking && !confirmLacking)
                {
                    _state[i] = State.Lacking;  // what it published says so: no request
                }
                else if (placer._silent.ContainsKey(address))
                {
                    _state[i] = State.Silent;
                    _probes[i] = placer.Probe(candidates[i], now: confirmLacking);
                    _ = _probes[i]!.ContinueWith(_ => _changed.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                else if (entry is not null && !lacking)
                {
                    _state[i] = State.FromView;
                    _fromView[i] = true;
                }
            }

            Task? preferenceOver = null;
            using var decided = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var waitForEarlier = preferenceOver is not { IsCompleted: true };
                    var (capable, blocked, open) = Scan(waitForEarlier);
                    if (capable is { } found && !blocked)
                    {
                        if (!waitForEarlier) SilenceEarlier(found);
                        return (candidates[found], [], []);
                    }
                    Launch(capable ?? candidates.Count);
                    if (capable is null && !open)
                    {
                        // Every candidate settled, none capable: each slot was read once, after its request ended.
                        var silent = Enumerable.Range(0, candidates.Count).Where(i => _state[i] == State.Silent
                            || (_state[i] == State.Asking && _asks[i]!.Silenced.Task.IsCompleted)).Select(i => candidates[i].Address).ToList();
                        var local = Enumerable.Range(0, candidates.Count).Where(i => _state[i] == State.Local)
                            .Select(i => _asks[i]?.Done.Result.Failure ?? _probes[i]?.Result.Failure ?? "").ToList();
                        return (null, silent, local);
                    }
                    if (capable is { } later && preferenceOver is null)
                        preferenceOver = Task.Delay(EarlierPeersWait(later), decided.Token);
                    var changed = _changed.WaitAsync(decided.Token);
                    if (preferenceOver is { IsCompleted: false }) await Task.WhenAny(changed, preferenceOver);
                    else if (preferenceOver is null) await changed;
                    while (_changed.CurrentCount > 0 && _changed.Wait(0)) { }  // every change so far is seen by the next scan
                }
            }
            finally
            {
                decided.Cancel();
            }
        }

        /// <summary>
        /// Walks the candidates in order up to the first capable one: settles what has ended, and says whether an
        /// earlier one is still waited for and whether any is still open (not started, or its request still out).
        /// </summary>
        private (int? Capable, bool Blocked, bool Open) Scan(bool waitForEarlier)
        {
            while (_settled < candidates.Count)
            {
                Settle(_settled);
                if (_state[_settled] is State.Lacking or State.Local || (_state[_settled] == State.Silent && _probes[_settled]!.IsCompleted)) _settled++;
                else break;
            }
            var blocked = false;
            var open = false;
            for (var i = _settled; i < candidates.Count; i++)
            {
                Settle(i);
                switch (_state[i])
                {
                    case State.Capable:
                        return (i, blocked, open);
                    case State.Unasked or State.FromView:
                        open = true;
                        blocked |= waitForEarlier;
                        break;
                    case State.Asking:
                        if (_asks[i]!.Silenced.Task.IsCompleted)
                        {
                            // Silent meanwhile: not waited for by the choice. A "nobody" that would be final waits for its
                            // answer (slow is not unable); one that only leaves the image waiting does not.
                            if (confirmLacking) open = true;
                            break;
                        }
                        open = true;
                        blocked |= waitForEarlier;
                        break;
                    case State.Silent:
                        // A silent peer's shared request still out: a final "nobody" waits for it too; a peer back from the
                        // dead answers it. Otherwise the next placement, and the images waiting for a node, find it then.
                        if (confirmLacking && _probes[i] is { IsCompleted: false }) open = true;
                        break;
                }
            }
            return (null, blocked, open);
        }

        /// <summary>Moves candidate <paramref name="i"/> on when its request (or its silent peer's shared request) has ended.</summary>
        private void Settle(int i)
        {
            var done = _state[i] switch
            {
                State.Asking => _asks[i]!.Done,
                State.Silent => _probes[i],
                _ => null,
            };
            if (done is not { IsCompleted: true }) return;
            var outcome = done.Result;
            if (outcome.LocalFailure)
            {
                _state[i] = State.Local;
                return;
            }
            if (outcome.Offered is null)
            {
                _state[i] = State.Silent;
                _probes[i] ??= done;
                return;
            }
            var capable = Offers(image, outcome.Offered);
            if (!capable && _fromView[i])
            {
                // It published that it can, and says now that it cannot: its own word now wins until it publishes again.
                placer.View.Forget(candidates[i].Address);
                placer.Log.LogDebug("Node {Node} lacks what its published capabilities promised for image {Image}: its entry is forgotten", candidates[i].Address, image.Name);
            }
            _state[i] = capable ? State.Capable : State.Lacking;
        }

        /// <summary>Starts requests in order, up to (not including) <paramref name="limit"/>, within the bounds.</summary>
        private void Launch(int limit)
        {
            var inFlight = 0;
            var viewInFlight = 0;
            for (var i = _settled; i < _next; i++)
            {
                if (_state[i] != State.Asking || _asks[i]!.Silenced.Task.IsCompleted) continue;
                inFlight++;
                if (_fromView[i]) viewInFlight++;
            }
            while (_next < limit && _next < candidates.Count)
            {
                var i = _next;
                if (_state[i] is State.FromView)
                {
                    if (inFlight >= MaxRequestsInFlight || viewInFlight >= ViewCandidatesAtOnce) return;
                    viewInFlight++;
                    candidates[i].PrepareDeploy();  // what it published says it can: its deploy is likely next
                }
                else if (_state[i] is State.Unasked)
                {
                    if (inFlight >= MaxRequestsInFlight) return;
                }
                else
                {
                    _next++;  // judged from the view, or silent: nothing to send
                    continue;
                }
                inFlight++;
                var ask = placer.Join(candidates[i]);
                _asks[i] = ask;
                _state[i] = State.Asking;
                _ = ask.Done.ContinueWith(_ => _changed.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                _ = ask.Silenced.Task.ContinueWith(_ => _changed.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                _next++;
            }
        }

        /// <summary>How long earlier peers are waited for once candidate <paramref name="capable"/> answered: four times its answer's time, within bounds.</summary>
        private TimeSpan EarlierPeersWait(int capable)
        {
            var took = _asks[capable] is { } ask ? Stopwatch.GetElapsedTime(ask.Sent) : TimeSpan.Zero;
            var wait = took * 4;
            return wait < MinPreferenceWait ? MinPreferenceWait : wait > placer.PreferenceWait ? placer.PreferenceWait : wait;
        }

        /// <summary>Earlier peers that let the wait run out are silent for the next placements too, until they answer (their requests run on).</summary>
        private void SilenceEarlier(int found)
        {
            for (var i = 0; i < found; i++)
            {
                if (_state[i] != State.Asking || _asks[i]!.Done.IsCompleted) continue;
                placer._silent.TryAdd(candidates[i].Address, NoAnswerInTime);  // its request, still out, stays the one out to it
            }
        }
    }
}
