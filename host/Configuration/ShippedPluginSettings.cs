using System.Globalization;

namespace Motey.Host.Configuration;

/// <summary>
/// The sections of the plugins that ship with the agent, checked when config.ini is read: a value the plugin would
/// refuse stops the start (exit 2, file and line) instead of leaving the plugin Failed in an agent that started.
/// The rules are the plugins' own (DockerSettings, ProcessSettings, SimulatedSettings): the host cannot see their types.
/// As there, a blank value means the plugin's default.
/// </summary>
internal static class ShippedPluginSettings
{
    private const string PathList = "absolute paths separated by commas";

    // As LinuxCapabilities in the Docker VAL: capabilities(7), Linux 5.9 and later.
    private static readonly HashSet<string> s_capabilities = new(StringComparer.Ordinal)
    {
        "ALL", "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE",
        "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN",
        "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID",
        "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT",
        "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
    };

    public static void Check(ConfigReader r)
    {
        WholeNumber(r, "SIMULATED", "start_delay_ms", 0, int.MaxValue, "a whole number of milliseconds >= 0");
        if (Value(r, "SIMULATED", "failure_rate") is { } rate
            && !(double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 1))
            throw r.Bad("SIMULATED", "failure_rate", rate, "a number from 0.0 to 1.0 (the share of starts that fail)");
        if (Value(r, "SIMULATED", "seed") is { } seed && !int.TryParse(seed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw r.Bad("SIMULATED", "seed", seed, "a whole number (or nothing, for a random seed)");
        WholeNumber(r, "SIMULATED", "log_interval_ms", 1, int.MaxValue, "a whole number of milliseconds >= 1");

        if (Value(r, "DOCKER", "url") is { } url && !IsDockerUrl(url))
            throw r.Bad("DOCKER", "url", url, "unix:///path/to/docker.sock or tcp://host:port");
        WholeNumber(r, "DOCKER", "pull_timeout", 1, 86_400, "a whole number of seconds from 1 to 86400");
        WholeNumber(r, "DOCKER", "stop_timeout", 0, 86_400, "a whole number of seconds from 0 to 86400");
        DockerPolicy(r);
        ProcessPolicy(r);
    }

    /// <summary>As DockerSettings: the allow_* flags, known capabilities, absolute paths, and never / as a bind path.</summary>
    private static void DockerPolicy(ConfigReader r)
    {
        foreach (var flag in new[] { "allow_privileged", "allow_host_network", "allow_host_pid", "allow_host_ipc" })
        {
            if (Value(r, "DOCKER", flag) is not null) r.Bool("DOCKER", flag);
        }
        foreach (var name in List(r, "DOCKER", "allowed_capabilities"))
        {
            var upper = name.ToUpperInvariant();
            if (!s_capabilities.Contains(upper.StartsWith("CAP_", StringComparison.Ordinal) ? upper[4..] : upper))
                throw r.Bad("DOCKER", "allowed_capabilities", name, "Linux capabilities such as NET_ADMIN, SYS_TIME (see capabilities(7)), or ALL, separated by commas");
        }
        AbsolutePaths(r, "DOCKER", "allowed_devices", allowColon: false);
        foreach (var path in AbsolutePaths(r, "DOCKER", "allowed_bind_paths", allowColon: false))
        {
            if (Path.GetFullPath(path) == "/")
                throw r.Bad("DOCKER", "allowed_bind_paths", path, "the host folders containers may bind-mount; / (the whole host) is never allowed");
        }
    }

    /// <summary>As ProcessSettings: absolute paths, a run_as user that exists, and at least 64 KiB of output kept.</summary>
    private static void ProcessPolicy(ConfigReader r)
    {
        WholeNumber(r, "PROCESS", "log_max_bytes", 65_536, int.MaxValue, "a whole number of bytes from 65536 (64 KiB) to 2147483647");
        AbsolutePaths(r, "PROCESS", "allowed_executables", allowColon: true);
        var runAs = Value(r, "PROCESS", "run_as");
        if (runAs is null)
        {
            if (Environment.IsPrivilegedProcess && !UserDatabase.Exists("nobody"))
                throw r.Bad("PROCESS", "run_as", "", "a user name: the agent runs as root, so instances run as nobody unless run_as names a user, and this node has no user nobody");
            return;
        }
        // Whether this agent can become that user is the plugin's question at activation: the commands that read this
        // file (status, stop, capability) may run as another user than the agent.
        if (!UserDatabase.Exists(runAs)) throw r.Bad("PROCESS", "run_as", runAs, "a user of this node (no such user)");
    }

    private static string[] AbsolutePaths(ConfigReader r, string section, string key, bool allowColon)
    {
        var paths = List(r, section, key);
        foreach (var path in paths)
        {
            if (!path.StartsWith('/') || path.Contains('\0') || (!allowColon && path.Contains(':'))) throw r.Bad(section, key, path, PathList);
        }
        return paths;
    }

    private static string[] List(ConfigReader r, string section, string key) =>
        (Value(r, section, key) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// As DockerSettings.ParseUrl: unix:// with an absolute socket path, or tcp://host:port. unix://var/run/docker.sock (two
    /// slashes, the original Motey's value) names /var/run/docker.sock, as docker-py read it.
    /// </summary>
    private static bool IsDockerUrl(string url) =>
        Uri.TryCreate(url.StartsWith("unix://", StringComparison.Ordinal) && url.Length > 7 && url[7] != '/' ? "unix:///" + url[7..] : url,
            UriKind.Absolute, out var uri) && uri.Scheme switch
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
