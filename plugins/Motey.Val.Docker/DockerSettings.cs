using System.Globalization;
using Microsoft.Extensions.Configuration;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>The <c>[DOCKER]</c> section of config.ini.</summary>
/// <param name="Url">Where the engine listens, as configured (<c>url</c>, default <c>unix:///var/run/docker.sock</c>).</param>
/// <param name="Endpoint"><paramref name="Url"/> parsed: a <c>unix</c> or <c>tcp</c> URI.</param>
/// <param name="PullTimeout">How long one pull may take (<c>pull_timeout</c> seconds, default 300).</param>
/// <param name="StopTimeout">Seconds between SIGTERM and SIGKILL when stopping (<c>stop_timeout</c>, default 10).</param>
internal sealed record DockerSettings(string Url, Uri Endpoint, TimeSpan PullTimeout, uint StopTimeout)
{
    public const string DefaultUrl = "unix:///var/run/docker.sock";
    public const int DefaultPullTimeoutSeconds = 300;
    public const uint DefaultStopTimeoutSeconds = 10;

    // A day is far beyond any pull or graceful stop, and keeps the arithmetic safe.
    private const int MaxSeconds = 86_400;

    /// <summary>Reads the settings; throws <see cref="ValException"/> naming the key and the bad value. Blank means absent.</summary>
    public static DockerSettings Read(IConfiguration section)
    {
        var url = Value(section, "url") ?? DefaultUrl;
        var endpoint = ParseUrl(url) ?? throw Invalid("url", url, "unix:///path/to/docker.sock or tcp://host:port");
        var pull = Seconds(section, "pull_timeout", DefaultPullTimeoutSeconds, minimum: 1);
        var stop = Seconds(section, "stop_timeout", (int)DefaultStopTimeoutSeconds, minimum: 0);
        return new DockerSettings(url, endpoint, TimeSpan.FromSeconds(pull), (uint)stop);
    }

    /// <summary>A <c>unix://</c> URI with an absolute socket path, or a <c>tcp://</c> URI with a host and a port; null otherwise.</summary>
    internal static Uri? ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        return uri.Scheme switch
        {
            // unix://var/run/docker.sock would make "var" a host: the path must follow three slashes.
            "unix" when uri.Host.Length == 0 && uri.AbsolutePath.Length > 1 => uri,
            "tcp" when uri.Host.Length > 0 && uri.Port is > 0 and <= 65535 && uri.AbsolutePath is "" or "/" => uri,
            _ => null,
        };
    }

    private static int Seconds(IConfiguration section, string key, int fallback, int minimum)
    {
        if (Value(section, key) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds < minimum || seconds > MaxSeconds)
        {
            throw Invalid(key, text, $"a whole number of seconds from {minimum} to {MaxSeconds}");
        }
        return seconds;
    }

    private static string? Value(IConfiguration section, string key) =>
        section[key] is { } text && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;

    private static ValException Invalid(string key, string value, string expected) =>
        new($"[DOCKER] {key}: expected {expected}, got '{value}'");
}
