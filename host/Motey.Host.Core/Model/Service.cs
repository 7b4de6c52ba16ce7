using Motey.Abstractions;
using System.Text.Json.Serialization;

namespace Motey.Host.Core.Model;

/// <summary>A service: a named set of images deployed together.</summary>
public sealed record Service
{
    /// <summary>Random hex id given when the service is accepted.</summary>
    [JsonPropertyName("id")] public required string Id { get; init; }

    /// <summary>Name from the blueprint; not unique.</summary>
    [JsonPropertyName("service_name")] public required string ServiceName { get; init; }

    /// <summary>Optional node type from the blueprint.</summary>
    [JsonPropertyName("node_type")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? NodeType { get; init; }

    /// <summary>The images, in blueprint order.</summary>
    [JsonPropertyName("images")] public IReadOnlyList<Image> Images { get; init; } = [];

    /// <summary>State derived from the images (see <see cref="ServiceStates.FromImages"/>).</summary>
    [JsonPropertyName("state")] public ServiceState State { get; init; } = ServiceState.Initial;

    /// <summary>Why the service is in its state, e.g. the capabilities no node has.</summary>
    [JsonPropertyName("state_message")] public string StateMessage { get; init; } = "";
}
