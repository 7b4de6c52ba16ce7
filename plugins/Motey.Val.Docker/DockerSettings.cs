using System.Globalization;
using Microsoft.Extensions.Configuration;
using Motey.Abstractions;
using Motey.Val.Docker.Parameters;
using Motey.Val.Shared;

namespace Motey.Val.Docker;

/// <summary>The <c>[DOCKER]</c> section of config.ini.</summary>
/// <param name="Url">Where the engine listens, as configured (<c>url</c>, default <c>unix:///var/run/docker.sock</c>).</param>
/// <param name="Endpoint"><paramref name="Url"/> parsed: a <c>unix</c> URI with an absolute path (<c>unix://var/...</c> read as
/// <c>unix:///var/...</c>) or a <c>tcp</c> URI.</param>
/// <param name="PullTimeout">How long one pull may take (<c>pull_timeout</c> seconds, default 300).</param>
/// <param name="StopTimeout">Seconds between SIGTERM and SIGKILL when stopping (<c>stop_timeout</c>, default 10).</param>
/// <param name="Policy">What blueprints may ask of the host (<c>allow_*</c>, <c>allowed_*</c>; default: nothing beyond the container).</param>
internal sealed record DockerSettings(string Url, Uri Endpoint, TimeSpan PullTimeout, uint StopTimeout, DockerPolicy Policy)
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
        return new DockerSettings(url, endpoint, TimeSpan.FromSeconds(pull), (uint)stop, ReadPolicy(section, endpoint));
    }

    /// <summary>The policy keys; the engine's socket (from <c>url</c>) and the default one are never bind-mounted.</summary>
    private static DockerPolicy ReadPolicy(IConfiguration section, Uri endpoint)
    {
        var capabilities = HostPaths.ListSetting(section["allowed_capabilities"])
            .Select(name => LinuxCapabilities.Normalize(name)
                ?? throw Invalid("allowed_capabilities", name, "Linux capabilities such as NET_ADMIN, SYS_TIME (see capabilities(7)), or ALL"))
            .Distinct().ToList();
        var bindPaths = AbsolutePaths(section, "allowed_bind_paths");
        if (bindPaths.FirstOrDefault(path => HostPaths.TryResolve(path) == "/") is { } root)
        {
            throw new ValException($"[DOCKER] allowed_bind_paths: '{root}' is the host's root folder, which is never bind-mounted; "
                + "list the folders that containers may use");
        }
        var sockets = new List<string> { DockerPolicy.DefaultSocket };
        if (endpoint.Scheme == "unix" && endpoint.LocalPath != DockerPolicy.DefaultSocket) sockets.Add(endpoint.LocalPath);
        return new DockerPolicy(
            Flag(section, "allow_privileged"), Flag(section, "allow_host_network"), Flag(section, "allow_host_pid"), Flag(section, "allow_host_ipc"),
            capabilities, AbsolutePaths(section, "allowed_devices"), bindPaths, sockets);
    }

    private static bool Flag(IConfiguration section, string key)
    {
        var text = Value(section, key);
        return text?.ToLowerInvariant() switch
        {
            null or "false" or "no" or "off" or "0" => false,
            "true" or "yes" or "on" or "1" => true,
            _ => throw Invalid(key, text, "true or false"),
        };
    }

    private static List<string> AbsolutePaths(IConfiguration section, string key)
    {
        var paths = HostPaths.ListSetting(section[key]).ToList();
        if (paths.FirstOrDefault(path => !path.StartsWith('/') || path.Contains(':') || path.Contains('\0')) is { } bad)
            throw Invalid(key, bad, "absolute host paths separated by commas");
        return paths;
    }

    /// <summary>
    /// A <c>unix://</c> URI with an absolute socket path, or a <c>tcp://</c> URI with a host and a port; null otherwise.
    /// <c>unix://var/run/docker.sock</c> (two slashes, the original Motey's value) is <c>unix:///var/run/docker.sock</c>,
    /// as docker-py read it ("for legacy reasons, unix://path is equivalent to unix:///path").
    /// </summary>
    internal static Uri? ParseUrl(string url)
    {
        const string unix = "unix://";
        if (url.StartsWith(unix, StringComparison.Ordinal) && url.Length > unix.Length && url[unix.Length] != '/')
            url = unix + "/" + url[unix.Length..];
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        return uri.Scheme switch
        {
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
