using System.Globalization;

namespace Motey.Host.Configuration;

/// <summary>
/// The sections of the plugins that ship with the agent, checked when config.ini is read: a value the plugin would
/// refuse stops the start (exit 2, file and line) instead of leaving the plugin Failed in an agent that started.
/// The rules are the plugins' own (DockerSettings, SimulatedSettings): the host cannot see their types. As there,
/// a blank value means the plugin's default.
/// </summary>
internal static class ShippedPluginSettings
{
    public static void Check(ConfigReader r)
    {
        WholeNumber(r, "SIMULATED", "start_delay_ms", 0, int.MaxValue, "a whole number of milliseconds >= 0");
        if (Value(r, "SIMULATED", "failure_rate") is { } rate
            && !(double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 1))
            throw r.Bad("SIMULATED", "failure_rate", rate, "a number from 0.0 to 1.0 (the share of starts that fail)");
        if (Value(r, "SIMULATED", "seed") is { } seed && !int.TryParse(seed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw r.Bad("SIMULATED", "seed", seed, "a whole number (or nothing, for a random seed)");

        if (Value(r, "DOCKER", "url") is { } url && !IsDockerUrl(url))
            throw r.Bad("DOCKER", "url", url, "unix:///path/to/docker.sock or tcp://host:port");
        WholeNumber(r, "DOCKER", "pull_timeout", 1, 86_400, "a whole number of seconds from 1 to 86400");
        WholeNumber(r, "DOCKER", "stop_timeout", 0, 86_400, "a whole number of seconds from 0 to 86400");
    }

    /// <summary>As DockerSettings.ParseUrl: unix:// with an absolute socket path (three slashes), or tcp://host:port.</summary>
    private static bool IsDockerUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme switch
        {
            "unix" => uri.Host.Length == 0 && uri.AbsolutePath.Length > 1,
            "tcp" => uri.Host.Length > 0 && uri.Port is > 0 and <= 65535 && uri.AbsolutePath is "" or "/",
            _ => false,
        };

    private static void WholeNumber(ConfigReader r, string section, string key, int min, int max, string expected)
    {
        if (Value(r, section, key) is { } text
            && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max))
            throw r.Bad(section, key, text, expected);
    }

    private static string? Value(ConfigReader r, string section, string key) =>
        r.Text(section, key, allowEmpty: true) is { Length: > 0 } text ? text : null;
}
