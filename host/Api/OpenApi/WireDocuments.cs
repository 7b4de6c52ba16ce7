using System.Text.Json;
using System.Text.Json.Serialization;

namespace Motey.Host.Api.OpenApi;

// The YAML bodies as the OpenAPI document describes them. The parsers (BlueprintParser, ServiceSelectorParser) read the
// YAML; these records only give the schema its names, shapes and required keys, and are never bound from a request.

/// <summary>A blueprint, the body of POST /v1/service (YAML).</summary>
internal sealed record BlueprintDocument
{
    [JsonPropertyName("service_name")] public required string ServiceName { get; init; }
    [JsonPropertyName("node_type")] public string? NodeType { get; init; }
    [JsonPropertyName("images")] public required IReadOnlyList<BlueprintImageDocument> Images { get; init; }
}

/// <summary>One image of a blueprint.</summary>
internal sealed record BlueprintImageDocument
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("engine")] public required string Engine { get; init; }
    [JsonPropertyName("parameters")] public IReadOnlyDictionary<string, JsonElement> Parameters { get; init; } = new Dictionary<string, JsonElement>();
    [JsonPropertyName("capabilities")] public IReadOnlyList<string> Capabilities { get; init; } = [];
}

/// <summary>The body of DELETE /v1/service (YAML): the service by id, else every service of that name.</summary>
internal sealed record ServiceSelectorDocument
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("service_name")] public string? ServiceName { get; init; }
}
