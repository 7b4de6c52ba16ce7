using Motey.Abstractions;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Motey.Host.Core.Model;

/// <summary>One image of a service: what to run, on which engine, needing which capabilities, and where it runs.</summary>
public sealed record Image
{
    /// <summary>Instance id given by the VAL; empty until deployed.</summary>
    [JsonPropertyName("id")] public string Id { get; init; } = "";

    /// <summary>Image reference, e.g. <c>alpine</c> for Docker or an executable for the process VAL.</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The VAL type that runs the image, e.g. <c>docker</c>.</summary>
    [JsonPropertyName("engine")] public required string Engine { get; init; }

    /// <summary>Engine-specific parameters, exactly as given in the blueprint.</summary>
    [JsonPropertyName("parameters")]
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>Capabilities a node needs to run this image.</summary>
    [JsonPropertyName("capabilities")] public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>Address of the node that runs the image; null until placed.</summary>
    [JsonPropertyName("node")] public string? Node { get; init; }

    /// <summary>State of the instance.</summary>
    [JsonPropertyName("state")] public ImageState State { get; init; } = ImageState.Initial;

    /// <summary>How often the image was placed: grows with every deploy on a node; its instances carry it as a label.</summary>
    [JsonPropertyName("generation")] public int Generation { get; init; }

    /// <summary>How often the agent has replaced an instance of this image that ended (restart policy).</summary>
    [JsonPropertyName("restarts")] public int Restarts { get; init; }

    /// <summary>Why the image is in its state, when that needs saying (errors above all).</summary>
    [JsonPropertyName("state_message")] public string StateMessage { get; init; } = "";
}
