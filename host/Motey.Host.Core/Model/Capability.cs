using System.Text.Json.Serialization;

namespace Motey.Host.Core.Model;

/// <summary>Something a node offers, e.g. <c>{"capability": "gpu", "capability_type": "hardware"}</c>.</summary>
/// <param name="Name">The capability an image can ask for.</param>
/// <param name="Type">Where it comes from: <c>plugin</c> (a VAL's type), <c>api</c>, <c>hardware</c>, ...</param>
public sealed record Capability(
    [property: JsonPropertyName("capability")] string Name,
    [property: JsonPropertyName("capability_type")] string Type)
{
    /// <summary>The capability type a VAL's engine is registered under when it is activated.</summary>
    public const string PluginType = "plugin";
}
