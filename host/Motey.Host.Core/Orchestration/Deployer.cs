using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using System.Diagnostics;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;

namespace Motey.Host.Core.Orchestration;

/// <summary>The service as stored after a deploy of one of its images, and the node the image now runs on (null: it waits for a node, or ended ERROR).</summary>
public sealed record DeployOutcome(Service Service, INodeClient? Node);

/// <summary>
/// Deploys one image: where the placer finds a node that can run it, moving on to the next capable node when the
/// deploy fails there (an error, a timeout, or the node leaving the cluster meanwhile).
/// </summary>
public sealed class Deployer(
    IServiceStore services,
    Placer placer,
    IPeerDirectory peers,
    ServiceIntents intents,
    NodeIdentity identity,
    ILogger<Deployer> log,
    IMoteyMetrics? metrics = null)
{
    /// <summary>How often a deploy in progress checks that its node is still in the cluster.</summary>
    private static readonly TimeSpan MembershipCheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How the state message of an image that waits for a node begins.</summary>
    public const string WaitingPrefix = "waiting for a node that can run it: ";

    /// <summary>Whether the image waits for a node that can run it (nothing was deployed for it yet, or its instance was replaced).</summary>
    public static bool Waits(Image image) => image.State == ImageState.Initial && image.Id.Length == 0;

    /// <summary>Whether the image still waits for a node and an instance.</summary>
    public static bool NeedsDeployment(Image image) =>
        image.State == ImageState.Initial || (image.State == ImageState.Instantiating && image.Id.Length == 0);

    /// <summary>
    /// Places the image and deploys it; the caller holds the service's lock. When the deploy fails on the chosen node,
    /// leftovers there are removed and the next node that can run the image is tried, up to
    /// <see cref="OrchestratorSettings.MaxDeployAttempts"/> nodes; the image ends ERROR, naming every failure, when none is left.
    /// A node that left the cluster during the deploy refused nothing: when it was the only one tried, the image waits
    /// for a node as if it had left a moment earlier.
    /// </summary>
    public async Task<DeployOutcome> DeployImageAsync(Service service, int index, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = await PlaceAsync(service, index, cancellationToken);
        (metrics ?? NoMetrics.Instance).Placement(
            outcome.Node is { } node ? (node.Address == identity.Address ? PlacementOutcome.Local : PlacementOutcome.Peer)
            : outcome.Service.Images[index].State == ImageState.Error ? PlacementOutcome.Error : PlacementOutcome.Waiting,
            Stopwatch.GetElapsedTime(started));
        return outcome;
    }

    private async Task<DeployOutcome> PlaceAsync(Service service, int index, CancellationToken cancellationToken)
    {
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<string>();
        // Deploys that failed on a node still in the cluster. A node that left refused nothing: had it left a moment
        // earlier, the image would wait for a node, and so it does when no other node can run it now.
        var refusals = 0;
        while (true)
        {
            var image = service.Images[index];
            var target = failures.Count < OrchestratorSettings.MaxDeployAttempts ? await placer.FindNodeAsync(image, failed, cancellationToken, confirmLacking: failures.Count > 0) : null;
            if (target is { Node: null } && (refusals == 0 || target.NotAsked > 0))
            {
                // No node refused it: no node can run it yet. It waits, and is placed when a node gains what it needs or joins.
                // Nor is ERROR concluded when this node could not ask some peers (its own limit): one of them may run it.
                var waiting = $"{WaitingPrefix}{target.Problem}";
                if (image.State != ImageState.Initial || image.StateMessage != waiting)
                    log.LogInformation("Image {Image} of service {ServiceId} waits for a node: {Why}", image.Name, service.Id, target.Problem);
                return new DeployOutcome(await services.SaveImageAsync(service, index, image with
                {
                    Node = null, State = ImageState.Initial, StateMessage = waiting,
                }, cancellationToken), null);
            }
            if (target?.Node is null)
            {
                var why = target is null ? $"gave up after {failures.Count} nodes"
                    : failures.Count == 0 ? target.Problem! : $"no other node can run it ({target.Problem})";
                if (failures.Count > 0) why = $"{string.Join("; ", failures)}; {why}";
                log.LogInformation("Image {Image} of service {ServiceId} not placed: {Why}", image.Name, service.Id, why);
                return new DeployOutcome(await services.SaveImageAsync(service, index, image with { State = ImageState.Error, StateMessage = why }, cancellationToken), null);
            }

            var node = target.Node;
            service = await services.SaveImageAsync(service, index, image with
            {
                Node = node.Address, State = ImageState.Instantiating, StateMessage = "", Generation = image.Generation + 1,
            }, cancellationToken);
            image = service.Images[index];
            var labels = InstanceLabelSet.For(service.Id, index, node.Address, identity.Address, image.Generation);
            try
            {
                var id = await DeployOnAsync(node, image, labels, cancellationToken);
                service = await services.SaveImageAsync(service, index, image with { Id = id }, cancellationToken);
                log.LogInformation("Image {Image} of service {ServiceId} runs on {Node} as {InstanceId}", image.Name, service.Id, node.Address, id);
                return new DeployOutcome(service, node);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Image {Image} of service {ServiceId} failed to deploy on {Node}: {Error}", image.Name, service.Id, node.Address, e.Message);
                failed.Add(node.Address);
                failures.Add($"deploy on {node.Address} failed: {e.Message}");
                if (peers.Find(node.Address) is not null)
                {
                    refusals++;
                    await InstanceLabelSet.RemoveLeftoversAsync(node, image, labels, log, cancellationToken);
                }
                if (intents.TerminationRequested(service.Id))
                    return new DeployOutcome(await services.SaveImageAsync(service, index, image with { State = ImageState.Error, StateMessage = string.Join("; ", failures) }, cancellationToken), null);
                service = await services.SaveImageAsync(service, index, image with { StateMessage = $"{string.Join("; ", failures)}; trying another node" }, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Deploys on <paramref name="node"/>; gives up at once when the node leaves the cluster meanwhile (its peers heard
    /// it go), instead of waiting out the deploy timeout for an answer that cannot come.
    /// </summary>
    private async Task<string> DeployOnAsync(INodeClient node, Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deploy = node.DeployImageAsync(image, labels, abandon.Token);
        while (await Task.WhenAny(deploy, Task.Delay(MembershipCheckInterval, cancellationToken)) != deploy)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (peers.Find(node.Address) is not null) continue;
            abandon.Cancel();
            try
            {
                await deploy;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // abandoned: the node is gone, whatever the request says now
            }
            throw new NodeLeftException($"node {node.Address} left the cluster during the deploy");
        }
        return await deploy;
    }
}
