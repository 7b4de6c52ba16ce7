using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Core.Membership;

namespace Motey.Host.Core.Orchestration;

/// <summary>
/// Terminates a service: every image's instance is stopped and removed on its node. An image whose node left the
/// cluster ends TERMINATED with a message; one whose node fails to stop it ends ERROR with the node's reason.
/// </summary>
public sealed class Terminator(
    IServiceStore services,
    IPeerDirectory peers,
    ServiceLocks locks,
    ServiceIntents intents,
    ILogger<Terminator> log)
{
    /// <summary>Terminates the service under its lock; then nothing about it is remembered but what the store holds.</summary>
    public async Task TerminateAsync(string serviceId, CancellationToken cancellationToken)
    {
        using var held = await locks.AcquireAsync(serviceId, cancellationToken);
        var service = await services.GetAsync(serviceId, cancellationToken);
        for (var index = 0; service is not null && index < service.Images.Count; index++)
        {
            var image = service.Images[index];
            intents.CancelRestart(serviceId, index);
            if (image.State == ImageState.Terminated) continue;
            if (image.Id.Length == 0 || image.Node is null)
            {
                // No instance id: nothing was started, unless a deploy was cut short after the engine created
                // something (engine gone, agent killed): that is found by its labels. The error stays readable.
                if (image.Node is not null && peers.Find(image.Node) is { } owner)
                    await InstanceLabelSet.RemoveLeftoversAsync(owner, image, InstanceLabelSet.For(serviceId, index, image.Node), log, cancellationToken);
                service = await services.SaveImageAsync(service, index, image with { State = ImageState.Terminated }, cancellationToken);
                continue;
            }
            if (peers.Find(image.Node) is not { } node)
            {
                service = await services.SaveImageAsync(service, index, image with
                {
                    State = ImageState.Terminated, StateMessage = $"node {image.Node} left the cluster; nothing to stop",
                }, cancellationToken);
                continue;
            }
            service = await services.SaveImageAsync(service, index, image with { State = ImageState.Stopping, StateMessage = "" }, cancellationToken);
            try
            {
                await node.TerminateImageAsync(image, cancellationToken);
                service = await services.SaveImageAsync(service, index, image with { State = ImageState.Terminated }, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Image {Image} of service {ServiceId} failed to stop: {Error}", image.Name, serviceId, e.Message);
                service = await services.SaveImageAsync(service, index, image with { State = ImageState.Error, StateMessage = $"stop on {image.Node} failed: {e.Message}" }, cancellationToken);
            }
        }
        intents.Forget(serviceId);
        if (service is not null) log.LogInformation("Service {ServiceId} terminated: {State}", serviceId, service.State);
    }
}
