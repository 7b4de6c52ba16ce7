using System.Globalization;
using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Orchestration;

/// <summary>The labels every instance of an image gets, so the agent can find it without its id.</summary>
public static class InstanceLabelSet
{
    /// <summary>Service id, image index and the node the instance is created on: what tells one image's instances from others.</summary>
    public static Dictionary<string, string> For(string serviceId, int index, string node) => new()
    {
        [InstanceLabels.ServiceId] = serviceId,
        [InstanceLabels.ImageIndex] = index.ToString(CultureInfo.InvariantCulture),
        [InstanceLabels.Node] = node,
    };

    /// <summary>As <see cref="For(string, int, string)"/>, plus the node that places it and the placement's generation.</summary>
    public static Dictionary<string, string> For(string serviceId, int index, string node, string placedBy, int generation)
    {
        var labels = For(serviceId, index, node);
        labels[InstanceLabels.PlacedBy] = placedBy;
        labels[InstanceLabels.Generation] = generation.ToString(CultureInfo.InvariantCulture);
        return labels;
    }

    /// <summary>
    /// Best effort: what <paramref name="node"/> created under these labels goes (a deploy that failed or was cut short
    /// after the engine created something). Nodes without removal by labels do nothing; a failure is logged, not thrown.
    /// </summary>
    public static async Task RemoveLeftoversAsync(
        INodeClient node, Image image, IReadOnlyDictionary<string, string> labels, ILogger log, CancellationToken cancellationToken)
    {
        try
        {
            await node.RemoveLeftoversAsync(image, labels, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Leftovers of image {Image} of service {ServiceId} on {Node} could not be removed: {Error}",
                image.Name, labels[InstanceLabels.ServiceId], node.Address, e.Message);
        }
    }
}
