using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Fencing;

/// <summary>
/// The running node's side of the fence. Every [ORCHESTRATOR] fence_interval (and once right after the start) it
/// lists the instances this node's VALs run that carry a placing node, and asks each placing node — itself
/// in-process — whether they are still its: an instance placed elsewhere meanwhile, of a deleted service, of an ended
/// image, or a second instance of one image is stopped. An instance whose placing node is not in the cluster keeps
/// running for orphan_grace, then is stopped as nobody's (that node places its image again if it comes back).
/// A placing node that cannot answer (unreachable: counted toward the grace; an original node: no opinion) changes nothing.
/// </summary>
/// <remarks>
/// Agents may share one engine (two nodes on one host with one Docker engine): the VAL then lists the other agents'
/// instances too. Each instance is judged as held by the node that created it (its <c>motey.node</c> label), never as
/// this node's: judged as this node's, a peer's legitimate instance reads "placed on another node" and was stopped
/// (SIGTERM) at every fence pass. Only this node's own instances (created under its address or a former one,
/// <see cref="NodeIdentity.FormerAddresses"/>) are stopped as nobody's; another agent's are its own business when
/// their placing node cannot be asked (it may be in another cluster).
/// </remarks>
public sealed class InstanceFence(
    LocalNode local,
    IPeerDirectory peers,
    InstanceOwnership ownership,
    NodeIdentity identity,
    OrchestratorSettings settings,
    TimeProvider clock,
    ILogger<InstanceFence> log) : BackgroundService
{
    /// <summary>Placing nodes not heard from, since when.</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unreachableSince = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken);
                await Task.Delay(settings.FenceInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "Fence check failed; trying again in {Interval}", settings.FenceInterval);
                await Task.Delay(settings.FenceInterval, clock, stoppingToken);
            }
        }
    }

    /// <summary>One pass: every held instance confirmed or stopped; returns how many were stopped.</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        var listing = await local.ListInstancesByEngineAsync(cancellationToken);
        foreach (var (engine, error) in listing.Unanswered)
            log.LogDebug("The {Engine} plugin did not list its instances ({Error}); they are confirmed once it does", engine, error);
        var held = new List<(HeldInstance Instance, string Holder)>();
        foreach (var (engine, instance) in listing.Instances)
            if (HeldInstance.From(engine, instance) is { } placed) held.Add((placed, HolderOf(instance)));
        var stopped = 0;
        foreach (var group in held.GroupBy(h => (h.Instance.PlacedBy, h.Holder)))
        {
            var (placedBy, holder) = group.Key;
            var instances = group.Select(h => h.Instance).ToList();
            var verdicts = await VerdictsAsync(placedBy, holder, instances, cancellationToken);
            if (verdicts is null) continue;
            foreach (var instance in instances)
            {
                if (verdicts.GetValueOrDefault(instance.Id) is not { Keep: false } verdict) continue;
                if (await StopAsync(instance, holder, verdict.Reason, cancellationToken)) stopped++;
            }
        }
        // An engine that did not answer may hold the instances of a placing node not seen here: its clock keeps running.
        if (listing.Unanswered.Count == 0)
            foreach (var gone in _unreachableSince.Keys.Where(k => held.All(h => h.Instance.PlacedBy != k))) _unreachableSince.TryRemove(gone, out _);
        return stopped;
    }

    /// <summary>The node that created <paramref name="instance"/> (its <c>motey.node</c> label); this node when the label is missing.</summary>
    private string HolderOf(ValInstance instance) =>
        instance.Labels.TryGetValue(InstanceLabels.Node, out var node) && node.Length > 0 ? node : identity.Address;

    /// <summary>
    /// The placing node's verdicts, by instance id, on instances <paramref name="holder"/> runs; null when it has no
    /// opinion (yet).
    /// </summary>
    private async Task<Dictionary<string, FenceVerdict>?> VerdictsAsync(
        string placedBy, string holder, List<HeldInstance> held, CancellationToken cancellationToken)
    {
        IReadOnlyList<FenceVerdict>? verdicts;
        if (placedBy == identity.Address)
        {
            verdicts = await ownership.DecideAsync(holder, held, cancellationToken);
        }
        else
        {
            verdicts = peers.Find(placedBy) is { } node ? await AskAsync(node, holder, held, cancellationToken) : null;
            if (verdicts is null) return identity.IsOwn(holder) ? Orphaned(placedBy, held) : null;
        }
        _unreachableSince.TryRemove(placedBy, out _);
        return verdicts.GroupBy(v => v.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    private async Task<IReadOnlyList<FenceVerdict>?> AskAsync(INodeClient node, string holder, List<HeldInstance> held, CancellationToken cancellationToken)
    {
        try
        {
            var verdicts = await node.ConfirmInstancesAsync(holder, held, cancellationToken);
            // An original node has no opinion: its instances are not fenced, as before.
            return verdicts ?? held.Select(h => new FenceVerdict(h.Id, true, $"node {node.Address} does not fence")).ToList();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogDebug("Node {Node} did not confirm {Count} instances: {Error}", node.Address, held.Count, e.Message);
            return null;
        }
    }

    /// <summary>Verdicts for instances whose placing node cannot be asked: none within the grace, stop after it.</summary>
    private Dictionary<string, FenceVerdict>? Orphaned(string placedBy, List<HeldInstance> held)
    {
        var now = clock.GetUtcNow();
        var since = _unreachableSince.GetOrAdd(placedBy, now);
        if (since == now)
            log.LogWarning("Node {Node} placed {Count} instances running here and cannot be asked about them; they are stopped if it stays away for {Grace}",
                placedBy, held.Count, settings.OrphanGrace);
        if (now - since < settings.OrphanGrace) return null;
        var why = $"its placing node {placedBy} has not answered for {(now - since).TotalSeconds:0} s";
        return held.ToDictionary(h => h.Id, h => new FenceVerdict(h.Id, false, why), StringComparer.Ordinal);
    }

    private async Task<bool> StopAsync(HeldInstance instance, string holder, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await local.TerminateImageAsync(new Image { Name = instance.ImageName, Engine = instance.Engine, Id = instance.Id }, cancellationToken);
            log.LogWarning("Stopped {Instance} created by {Holder}: {Reason}", instance.Show(), holder, reason);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Could not stop {Instance} created by {Holder} ({Reason}): {Error}", instance.Show(), holder, reason, e.Message);
            return false;
        }
    }
}
