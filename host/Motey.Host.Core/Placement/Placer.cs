using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Placement;

/// <summary>Where an image can run, or what no node offers.</summary>
public sealed record PlacementResult(INodeClient? Node, string? Problem);

/// <param name="PreferenceWait">How long a capable answer waits for earlier peers in the order.</param>
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
/// Peers are asked in parallel and the choice does not wait for peers that cannot answer: a peer that failed
/// its last capability request (dead but still registered, say) is still asked, but no later peer waits for
/// its answer; and once some peer answered that it can run the image, earlier peers get at most
/// <see cref="PreferenceWait"/> to answer too. So the order decides between live peers, and one dead peer costs
/// a placement at most that wait once, not a request timeout every time. Only when no live peer can run the
/// image does the placement wait for every answer (a peer back from the dead may be the one).
/// </remarks>
/// <param name="local">This node: asked first, in-process.</param>
/// <param name="peers">The other nodes, asked in their order.</param>
/// <param name="settings">How long to wait for earlier peers.</param>
/// <param name="log">Where peers falling silent and coming back are told.</param>
public sealed class Placer(INodeClient local, IPeerDirectory peers, PlacementSettings settings, ILogger<Placer> log)
{
    private static readonly IReadOnlySet<string> Nobody = new HashSet<string>();

    private const string NoAnswerInTime = "no answer within the preference wait";

    /// <summary>Peers whose last capability request failed or was too slow, with why; asked again every time, waited for by nobody.</summary>
    private readonly ConcurrentDictionary<string, string> _silent = new(StringComparer.Ordinal);

    /// <summary>How long a capable answer waits for earlier peers in the order.</summary>
    public TimeSpan PreferenceWait => settings.PreferenceWait;

    public Task<PlacementResult> FindNodeAsync(Image image, CancellationToken cancellationToken) =>
        FindNodeAsync(image, Nobody, cancellationToken);

    /// <summary>As <see cref="FindNodeAsync(Image, CancellationToken)"/>, never choosing a node in <paramref name="excluded"/> (nodes where a deploy of this image just failed).</summary>
    public async Task<PlacementResult> FindNodeAsync(Image image, IReadOnlySet<string> excluded, CancellationToken cancellationToken)
    {
        IReadOnlyList<string>? localMissing = null;
        if (!excluded.Contains(local.Address))
        {
            localMissing = Missing(image, await local.GetCapabilitiesAsync(cancellationToken));
            if (localMissing.Count == 0) return new PlacementResult(local, null);
        }

        var known = await peers.PeersAsync(cancellationToken);
        var addresses = known.Select(p => p.Address).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _silent.Keys.Where(a => !addresses.Contains(a))) _silent.TryRemove(gone, out _);
        var candidates = known.Where(p => !excluded.Contains(p.Address)).ToList();
        var chosen = await FirstCapableAsync(image, candidates, cancellationToken);
        if (chosen.Node is not null) return new PlacementResult(chosen.Node, null);

        var problem = localMissing is null
            ? "no other node offers what the image needs"
            : $"no node offers what the image needs: node {local.Address} lacks {string.Join(", ", localMissing)}";
        problem += candidates.Count > 0 ? $"; none of the {candidates.Count} other known nodes has all of them"
            : known.Count > 0 ? "; no other node is left to try"
            : "; no other node is known";
        // Each with its own reason: "did not answer" and "gave an unreadable answer" are different problems to fix.
        if (chosen.Silent.Count > 0)
            problem += $" ({chosen.Silent.Count} could not be asked: {string.Join("; ", chosen.Silent.Take(5).Select(a => _silent.GetValueOrDefault(a) ?? $"node {a} did not answer"))}{(chosen.Silent.Count > 5 ? "; ..." : "")})";
        return new PlacementResult(null, problem);
    }

    private async Task<(INodeClient? Node, List<string> Silent)> FirstCapableAsync(
        Image image, List<INodeClient> candidates, CancellationToken cancellationToken)
    {
        // The requests still out when the choice is made run on to their answer or timeout, unawaited: that is how a
        // dead peer becomes known as silent even though no placement waits for it. Only the wait below is cancelled.
        using var decided = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var knownSilent = candidates.Select(p => _silent.ContainsKey(p.Address)).ToArray();
        var asks = candidates.Select(p => AskAsync(p, image, cancellationToken)).ToArray();
        Task? preferenceOver = null;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Taken before the scan: answers keep arriving meanwhile, and "all answered, none capable" may only
                // be concluded from a scan that saw every answer.
                var allAnswered = asks.All(a => a.IsCompleted);
                var waitForEarlier = preferenceOver is not { IsCompleted: true };
                var blocked = false;
                int? capable = null;
                for (var i = 0; i < asks.Length && capable is null; i++)
                {
                    if (asks[i].IsCompletedSuccessfully && asks[i].Result == Answer.Capable) capable = i;
                    else if (!asks[i].IsCompleted && waitForEarlier && !knownSilent[i]) blocked = true;
                }
                if (capable is { } found && !blocked)
                {
                    // Earlier peers that let the preference wait run out are not waited for by the next placements
                    // either, until they answer (their requests run on).
                    if (!waitForEarlier)
                    {
                        for (var i = 0; i < found; i++)
                            if (!asks[i].IsCompleted) _silent.TryAdd(candidates[i].Address, NoAnswerInTime);
                    }
                    return (candidates[found], []);
                }

                if (allAnswered)
                {
                    var silent = candidates.Where((_, i) => asks[i].Result == Answer.Silent).Select(p => p.Address).ToList();
                    return (null, silent);
                }
                var pending = asks.Where(a => !a.IsCompleted).ToList<Task>();
                if (pending.Count == 0) continue;  // the last answers came in during the scan: look again
                if (capable is not null) preferenceOver ??= Task.Delay(PreferenceWait, decided.Token);
                if (preferenceOver is not null) pending.Add(preferenceOver);
                await Task.WhenAny(pending);
            }
        }
        finally
        {
            decided.Cancel();
        }
    }

    private enum Answer { Capable, Lacking, Silent, Dropped }

    /// <summary>Asks one peer; never throws but for the caller's cancellation. Keeps <see cref="_silent"/> and says when a peer falls silent or comes back.</summary>
    private async Task<Answer> AskAsync(INodeClient peer, Image image, CancellationToken cancellationToken)
    {
        await Task.Yield();  // every request goes out before any answer is looked at
        try
        {
            var offered = await peer.GetCapabilitiesAsync(cancellationToken);
            if (_silent.TryRemove(peer.Address, out var before))
            {
                if (before == NoAnswerInTime) log.LogDebug("Node {Node} answered, late", peer.Address);
                else log.LogInformation("Node {Node} answers capability requests again", peer.Address);
            }
            return Missing(image, offered).Count == 0 ? Answer.Capable : Answer.Lacking;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Answer.Dropped;  // the caller gave up
        }
        catch (Exception e)
        {
            var first = true;
            _silent.AddOrUpdate(peer.Address, e.Message, (_, before) => { first = before == NoAnswerInTime; return e.Message; });
            if (first)
                log.LogWarning("Node {Node} did not tell its capabilities: {Error}; placements stop waiting for it until it answers", peer.Address, e.Message);
            else
                log.LogDebug("Node {Node} still does not tell its capabilities: {Error}", peer.Address, e.Message);
            return Answer.Silent;
        }
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
}
