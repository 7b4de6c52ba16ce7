using Motey.Abstractions;

namespace Motey.Host.Orchestration;

/// <summary>Where an image can run, or what no node offers.</summary>
internal sealed record PlacementResult(INodeClient? Node, string? Problem);

/// <summary>
/// The seed's find_node and compare_capabilities: the local node when it has every capability the image
/// lists and an active VAL for its engine; else the first known peer that has them, asked in parallel.
/// </summary>
internal sealed class Placement(LocalNode local, IPeerDirectory peers, ILogger<Placement> log)
{
    public async Task<PlacementResult> FindNodeAsync(Image image, CancellationToken cancellationToken)
    {
        var localMissing = Missing(image, await local.GetCapabilitiesAsync(cancellationToken));
        if (localMissing.Count == 0) return new PlacementResult(local, null);

        var candidates = await peers.PeersAsync(cancellationToken);
        // Each peer client bounds its own request, so a dead peer costs one timeout, in parallel with the rest.
        var answers = await Task.WhenAll(candidates.Select(async peer =>
        {
            try
            {
                return (peer, missing: Missing(image, await peer.GetCapabilitiesAsync(cancellationToken)));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Node {Node} did not tell its capabilities: {Error}", peer.Address, e.Message);
                return (peer, missing: (IReadOnlyList<string>?)null);
            }
        }));
        var chosen = answers.FirstOrDefault(a => a.missing is { Count: 0 }).peer;
        if (chosen is not null) return new PlacementResult(chosen, null);

        var problem = $"no node offers what the image needs: node {local.Address} lacks {string.Join(", ", localMissing)}";
        problem += candidates.Count == 0 ? "; no other node is known" : $"; none of the {candidates.Count} other known nodes has all of them";
        return new PlacementResult(null, problem);
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
