using Motey.Abstractions;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Fencing;

/// <summary>
/// The placing node's side of the fence: whether an instance a node runs for it is still the one its store says runs
/// there. Only the placing node knows (it holds the service); the node that runs the instance asks, and obeys.
/// </summary>
public sealed class InstanceOwnership(IServiceStore services)
{
    /// <summary>The verdict for each of <paramref name="held"/>, which the node at <paramref name="holder"/> runs.</summary>
    public async Task<IReadOnlyList<FenceVerdict>> DecideAsync(string holder, IReadOnlyList<HeldInstance> held, CancellationToken cancellationToken)
    {
        var verdicts = new List<FenceVerdict>(held.Count);
        foreach (var instance in held)
            verdicts.Add(Decide(holder, instance, await services.GetAsync(instance.ServiceId, cancellationToken)));
        return verdicts;
    }

    /// <summary>
    /// Keep: the store names this instance on this node, or a deploy of the image on this node has not stored its
    /// instance id yet (that deploy adopts it). Stop: the service is gone, the image ended or is being stopped, it was
    /// placed on another node, or another instance is the image's.
    /// </summary>
    public static FenceVerdict Decide(string holder, HeldInstance instance, Model.Service? service)
    {
        FenceVerdict Stop(string why) => new(instance.Id, false, why);
        FenceVerdict Keep(string why) => new(instance.Id, true, why);

        if (service is null) return Stop($"service {instance.ServiceId} is gone");
        if (instance.Index < 0 || instance.Index >= service.Images.Count) return Stop($"service {instance.ServiceId} has no image {instance.Index}");
        var image = service.Images[instance.Index];
        if (image.HasEnded())
            return Stop($"image {instance.Index} of service {instance.ServiceId} is {image.State}");
        if (image.Node != holder)
            return Stop(image.Node is null ? $"image {instance.Index} of service {instance.ServiceId} is not placed on any node"
                : $"image {instance.Index} of service {instance.ServiceId} runs on {image.Node} (generation {image.Generation})");
        if (image.Id == instance.Id) return Keep("it is the image's instance");
        if (image.Id.Length == 0 && image.State is ImageState.Initial or ImageState.Instantiating)
            return Keep($"a deploy of generation {image.Generation} on {holder} has not stored its instance yet");
        return Stop($"instance {image.Id} is the image's instance on {holder}");
    }
}
