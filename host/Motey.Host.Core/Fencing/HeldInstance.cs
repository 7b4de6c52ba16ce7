using System.Globalization;
using System.Text.Json.Serialization;
using Motey.Abstractions;

namespace Motey.Host.Core.Fencing;

/// <summary>An instance a node runs for the node that placed it, as its labels tell.</summary>
/// <param name="Id">Instance id on the node that runs it.</param>
/// <param name="Engine">The VAL that runs it.</param>
/// <param name="ImageName">The image it runs.</param>
/// <param name="ServiceId">The service it belongs to, on the placing node.</param>
/// <param name="Index">The image's index in the service.</param>
/// <param name="PlacedBy">The node that placed it.</param>
/// <param name="Generation">The image's placement generation when it was created.</param>
public sealed record HeldInstance(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("image")] string ImageName,
    [property: JsonPropertyName("service")] string ServiceId,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("placed_by")] string PlacedBy,
    [property: JsonPropertyName("generation")] int Generation)
{
    /// <summary>The instance as its labels describe it; null when it carries no placing node (original nodes, older agents, not ours).</summary>
    public static HeldInstance? From(string engine, ValInstance instance)
    {
        var labels = instance.Labels;
        if (!labels.TryGetValue(InstanceLabels.PlacedBy, out var placedBy) || placedBy.Length == 0
            || !labels.TryGetValue(InstanceLabels.ServiceId, out var service)
            || !labels.TryGetValue(InstanceLabels.ImageIndex, out var indexText)
            || !int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            return null;
        var generation = labels.TryGetValue(InstanceLabels.Generation, out var g)
            && int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new HeldInstance(instance.Id, engine, instance.ImageName, service, index, placedBy, generation);
    }

    /// <summary>The instance in words, for the log.</summary>
    public string Show() => $"instance {Id} of image {Index} of service {ServiceId} (placed by {PlacedBy}, generation {Generation})";
}

/// <summary>What the placing node says of one instance: keep it running, or stop it, and why.</summary>
public sealed record FenceVerdict(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("keep")] bool Keep,
    [property: JsonPropertyName("reason")] string Reason);
