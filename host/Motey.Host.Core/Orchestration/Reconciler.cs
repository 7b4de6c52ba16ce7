using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Orchestration;

/// <summary>
/// Keeps images in step with their instances: states follow what the nodes report, and an instance that ended
/// without the agent stopping it (or whose node left the cluster) is replaced or left per the image's restart policy
/// (<see cref="RestartDecision"/>).
/// </summary>
public sealed class Reconciler(
    IServiceStore services,
    IPeerDirectory peers,
    Deployer deployer,
    ServiceLocks locks,
    ServiceIntents intents,
    OrchestratorSettings settings,
    ILogger<Reconciler> log)
{
    /// <summary>One pass over every service with live instances; a service another part works on is left for the next pass.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        foreach (var candidate in await services.AllAsync(cancellationToken))
        {
            if (!candidate.Images.Any(IsLive)) continue;
            using var held = locks.TryAcquire(candidate.Id);
            if (held is null) continue;  // busy: the next pass gets it
            var service = await services.GetAsync(candidate.Id, cancellationToken);
            for (var index = 0; service is not null && index < service.Images.Count; index++)
            {
                var image = service.Images[index];
                if (!IsLive(image)) continue;
                // A node that left the cluster takes its instances with it: they count as ended,
                // so the restart policy places them again (on-failure by default: exit code unknown).
                service = peers.Find(image.Node!) is { } node
                    ? await FollowAsync(service, index, node, cancellationToken)
                    : await InstanceEndedAsync(service, index, null, cancellationToken);
            }
        }
    }

    /// <summary>Deploys the image (the caller holds the service's lock) and follows the new instance from its first state.</summary>
    public async Task<Service> DeployAndFollowAsync(Service service, int index, CancellationToken cancellationToken)
    {
        var (deployed, node) = await deployer.DeployImageAsync(service, index, cancellationToken);
        return node is null ? deployed : await FollowAsync(deployed, index, node, cancellationToken);
    }

    private static bool IsLive(Image image) =>
        image.Id.Length > 0 && image.Node is not null && image.State is ImageState.Instantiating or ImageState.Running;

    /// <summary>The image's state as its node reports it now; a due replacement first.</summary>
    private async Task<Service> FollowAsync(Service service, int index, INodeClient node, CancellationToken cancellationToken)
    {
        if (await RestartIfDueAsync(service, index, node, cancellationToken) is { } restarted) return restarted;
        var image = service.Images[index];
        ImageState state;
        string message = "";
        try
        {
            state = await node.GetImageStateAsync(image, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A slow or unreachable node: keep the last known state, say why, ask again on the next pass.
            (state, message) = (image.State, $"state of instance {image.Id} on {node.Address} unknown: {e.Message}");
        }
        if (state == ImageState.Terminated) return await InstanceEndedAsync(service, index, node, cancellationToken);
        if (state == image.State && message == image.StateMessage) return service;
        log.LogInformation("Image {Image} of service {ServiceId}: {OldState} -> {NewState}", image.Name, service.Id, image.State, state);
        return await services.SaveImageAsync(service, index, image with { State = state, StateMessage = message }, cancellationToken);
    }

    /// <summary>An instance ended without the agent stopping it (<paramref name="node"/> null: its node left the cluster).</summary>
    private async Task<Service> InstanceEndedAsync(Service service, int index, INodeClient? node, CancellationToken cancellationToken)
    {
        if (await RestartIfDueAsync(service, index, node, cancellationToken) is { } restarted) return restarted;
        var image = service.Images[index];
        int? exitCode = null;
        try
        {
            if (node is not null) exitCode = await node.GetExitCodeAsync(image, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Exit code of instance {InstanceId} on {Node} unknown: {Error}", image.Id, node!.Address, e.Message);
        }
        var decision = RestartDecision.For(image, exitCode, nodeLeft: node is null, settings);
        log.LogInformation("Image {Image} of service {ServiceId}: {Decision}", image.Name, service.Id, decision.Message);
        if (decision.Restart) intents.ScheduleRestart(service.Id, index, decision.Delay);
        return await services.SaveImageAsync(service, index, image with { State = decision.State, StateMessage = decision.Message }, cancellationToken);
    }

    /// <summary>When a replacement is due, replaces the instance; the service unchanged while one waits; null when none is pending.</summary>
    private async Task<Service?> RestartIfDueAsync(Service service, int index, INodeClient? node, CancellationToken cancellationToken) =>
        intents.TakeRestart(service.Id, index) switch
        {
            Restart.None => null,
            Restart.Waiting => service,
            _ => await ReplaceInstanceAsync(service, index, node, cancellationToken),
        };

    /// <summary>Removes the ended instance (when its node is still there) and deploys the image anew, placement included, as after a POST.</summary>
    private async Task<Service> ReplaceInstanceAsync(Service service, int index, INodeClient? node, CancellationToken cancellationToken)
    {
        var image = service.Images[index];
        try
        {
            if (node is not null) await node.TerminateImageAsync(image, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Ended instance {InstanceId} on {Node} could not be removed: {Error}", image.Id, node!.Address, e.Message);
        }
        service = await services.SaveImageAsync(service, index, image with { Id = "", State = ImageState.Initial, Restarts = image.Restarts + 1 }, cancellationToken);
        return await DeployAndFollowAsync(service, index, cancellationToken);
    }
}
