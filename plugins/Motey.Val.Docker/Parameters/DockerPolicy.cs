using Motey.Val.Shared;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// What a blueprint may ask of the host on this node, from <c>[DOCKER]</c>: each option that reaches beyond the container
/// (privileged, the host's network, PID or IPC namespace, added capabilities, devices, bind mounts) is refused unless a
/// setting allows it. Every refusal names the option and the setting that would allow it.
/// </summary>
/// <param name="AllowPrivileged"><c>allow_privileged</c>: <c>privileged: true</c>.</param>
/// <param name="AllowHostNetwork"><c>allow_host_network</c>: <c>network_mode: host</c>.</param>
/// <param name="AllowHostPid"><c>allow_host_pid</c>: <c>pid_mode: host</c>.</param>
/// <param name="AllowHostIpc"><c>allow_host_ipc</c>: <c>ipc_mode: host</c>.</param>
/// <param name="AllowedCapabilities"><c>allowed_capabilities</c>: capabilities <c>cap_add</c> may add (normalized; ALL = any).</param>
/// <param name="AllowedDevices"><c>allowed_devices</c>: host device paths, or folders of them, <c>devices</c> may pass in.</param>
/// <param name="AllowedBindPaths"><c>allowed_bind_paths</c>: host folders <c>volumes</c> may bind-mount, or paths inside them.</param>
/// <param name="EngineSockets">The engine's sockets: never bind-mounted, nor any folder that holds one.</param>
internal sealed record DockerPolicy(
    bool AllowPrivileged,
    bool AllowHostNetwork,
    bool AllowHostPid,
    bool AllowHostIpc,
    IReadOnlyList<string> AllowedCapabilities,
    IReadOnlyList<string> AllowedDevices,
    IReadOnlyList<string> AllowedBindPaths,
    IReadOnlyList<string> EngineSockets)
{
    /// <summary>Where Docker's socket is unless configured otherwise; refused as a bind source whatever <c>url</c> says.</summary>
    public const string DefaultSocket = "/var/run/docker.sock";

    /// <summary>Nothing beyond the container: the default.</summary>
    public static readonly DockerPolicy Closed = new(false, false, false, false, [], [], [], [DefaultSocket]);

    /// <summary>
    /// Everything a setting could allow, allowed: what checking the parameters alone needs, the same on every node
    /// (another node may allow what this one does not). What no setting allows (the host's root, the default socket) stays refused.
    /// </summary>
    public static readonly DockerPolicy AnySettings = new(true, true, true, true, [LinuxCapabilities.All], ["/"], ["/"], [DefaultSocket]);

    public string? Privileged() => AllowPrivileged ? null
        : "privileged containers are not allowed on this node; [DOCKER] allow_privileged = true allows them";

    public string? HostNetwork() => AllowHostNetwork ? null
        : "the host's network is not allowed on this node; [DOCKER] allow_host_network = true allows it";

    public string? HostPid() => AllowHostPid ? null
        : "the host's PID namespace is not allowed on this node; [DOCKER] allow_host_pid = true allows it";

    public string? HostIpc() => AllowHostIpc ? null
        : "the host's IPC namespace is not allowed on this node; [DOCKER] allow_host_ipc = true allows it";

    /// <summary>Why <paramref name="capability"/> (normalized) may not be added, or null when it may.</summary>
    public string? Capability(string capability) =>
        AllowedCapabilities.Contains(LinuxCapabilities.All) || AllowedCapabilities.Contains(capability) ? null
            : $"adding capability {capability} is not allowed on this node; adding {capability} to [DOCKER] allowed_capabilities allows it";

    /// <summary>Why the host device <paramref name="written"/> may not be passed in, or null when it may; <paramref name="resolved"/> is what it names.</summary>
    public string? Device(string written, string resolved) =>
        AllowedDevices.Any(allowed => Covers(allowed, resolved)) ? null
            : $"device {Show(written, resolved)} is not allowed on this node; adding {resolved} to [DOCKER] allowed_devices allows it";

    /// <summary>Why the host path <paramref name="written"/> may not be bind-mounted, or null when it may; <paramref name="resolved"/> is what it names.</summary>
    public string? BindMount(string written, string resolved)
    {
        const string never = "never allowed, whatever [DOCKER] allowed_bind_paths says";
        if (resolved == "/") return $"binding the host's root folder {Show(written, resolved)} is {never}";
        foreach (var socket in EngineSockets.Select(s => HostPaths.TryResolve(s) ?? s))
        {
            if (!HostPaths.IsWithin(socket, resolved)) continue;
            var what = socket == resolved ? "is the Docker engine's socket" : $"holds the Docker engine's socket {socket}";
            return $"host path {Show(written, resolved)} {what}, which would give the container control of the host: {never}";
        }
        return AllowedBindPaths.Any(allowed => Covers(allowed, resolved)) ? null
            : $"bind mounts of host path {Show(written, resolved)} are not allowed on this node; adding {resolved} (or a folder above it) "
                + "to [DOCKER] allowed_bind_paths allows them";
    }

    /// <summary>An allowed entry covers the path when the path is the entry or inside it, both as they are on the host now.</summary>
    private static bool Covers(string allowed, string resolved) =>
        HostPaths.TryResolve(allowed) is { } folder && HostPaths.IsWithin(resolved, folder);

    /// <summary>The path as written, and what it names when that differs (<c>/srv/../etc (that is /etc)</c>).</summary>
    private static string Show(string written, string resolved) => written == resolved ? written : $"{written} (that is {resolved})";
}
