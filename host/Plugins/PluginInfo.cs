using System.Text.Json.Serialization;

namespace Motey.Host.Plugins;

[JsonConverter(typeof(JsonStringEnumConverter<PluginState>))]
internal enum PluginState
{
    /// <summary>Being loaded or activated.</summary>
    Loading,
    /// <summary>Activated; its engine is a capability of the node.</summary>
    Active,
    /// <summary>Could not be loaded (bad or missing assembly, no VAL type in it) or threw on activation.</summary>
    Failed,
    /// <summary>Did not finish activating within [PLUGINS] activation_timeout.</summary>
    TimedOut,
    /// <summary>Deactivated at shutdown.</summary>
    Deactivated,
    /// <summary>Its folder was removed while the node ran: deactivated and unloaded, its instances left running.</summary>
    Removed,
}

/// <summary>What the last change of a plugin folder seen while the node ran did (none for the load at start).</summary>
/// <param name="Outcome">added, updated, removed, failed (the version before keeps serving, if there is one) or unchanged
/// (files were touched, their content is the same).</param>
internal sealed record PluginReload(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>What GET /v1/plugins shows of a plugin.</summary>
internal sealed record PluginInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("state")] PluginState State,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("engine_available")] bool EngineAvailable,
    [property: JsonPropertyName("engine_problem")] string? EngineProblem,
    [property: JsonPropertyName("loaded_at")] DateTimeOffset? LoadedAt,
    [property: JsonPropertyName("last_reload")] PluginReload? LastReload);
