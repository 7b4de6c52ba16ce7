using System.Globalization;
using Microsoft.Extensions.Configuration;
using Motey.Abstractions;

namespace Motey.Val.Sample;

/// <summary>The <c>[SAMPLE]</c> section of the agent's config.ini. Every key is optional; a blank value means absent.</summary>
/// <param name="Endpoint"><c>endpoint</c>: where the engine answers, e.g. a socket path or a URL; empty for the engine's default.</param>
/// <param name="MaxInstances"><c>max_instances</c>: how many instances may exist on this node at once; 0 (the default) for no limit.</param>
internal sealed record SampleSettings(string Endpoint, int MaxInstances)
{
    /// <summary>The settings when the section is empty or absent.</summary>
    public static readonly SampleSettings Default = new("", 0);

    // TODO(engine): add the engine's own settings here, read them in Read, and list them in the README.

    /// <summary>Reads the section; throws <see cref="ValException"/> naming the key and the bad value, which fails activation.</summary>
    public static SampleSettings Read(IConfiguration section)
    {
        var endpoint = Value(section, "endpoint") ?? Default.Endpoint;

        var maxInstances = Default.MaxInstances;
        if (Value(section, "max_instances") is { } text
            && !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out maxInstances))
        {
            throw Invalid("max_instances", text, "a whole number >= 0 (0: no limit)");
        }
        return new SampleSettings(endpoint, maxInstances);
    }

    private static string? Value(IConfiguration section, string key) =>
        section[key] is { } text && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;

    private static ValException Invalid(string key, string value, string expected) =>
        new($"[SAMPLE] {key}: expected {expected}, got '{value}'");
}
