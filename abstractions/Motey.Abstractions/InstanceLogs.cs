using System.Text.Json.Serialization;

namespace Motey.Abstractions;

/// <summary>What part of an instance's output to read (<see cref="IValPlugin.ReadLogsAsync"/>).</summary>
/// <param name="Tail">Only the last this many lines of what the instance has printed so far; null = all of them.</param>
/// <param name="Follow">After those, keep the enumeration open and yield new lines as they are printed, until the instance ends or the token is cancelled.</param>
public sealed record LogRequest(int? Tail = null, bool Follow = false);

/// <summary>Which output of an instance a line came from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LogSource>))]
public enum LogSource
{
    /// <summary>Standard output and standard error together, where the engine does not tell them apart.</summary>
    [JsonStringEnumMemberName("output")] Output = 0,
    /// <summary>Standard output.</summary>
    [JsonStringEnumMemberName("stdout")] Stdout = 1,
    /// <summary>Standard error.</summary>
    [JsonStringEnumMemberName("stderr")] Stderr = 2,
}

/// <summary>One line an instance printed, without its line break.</summary>
/// <param name="Time">When it was printed, where the engine records it (Docker does); null when unknown.</param>
/// <param name="Source">Which output it came from.</param>
/// <param name="Text">The line, without the trailing newline; invalid UTF-8 is replaced with U+FFFD.</param>
public sealed record LogLine(
    [property: JsonPropertyName("time")] DateTimeOffset? Time,
    [property: JsonPropertyName("stream")] LogSource Source,
    [property: JsonPropertyName("text")] string Text);
