using System.Text.Json;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// The options that open the container to the host as a whole: <c>privileged</c>, and the host's network, PID and IPC
/// namespaces through <c>network_mode</c>, <c>pid_mode</c> and <c>ipc_mode</c>. Each needs its <see cref="DockerPolicy"/> setting.
/// <c>container:&lt;name&gt;</c> needs the same setting as <c>host</c>: the other container may itself run in the host's
/// namespace (a monitoring agent with <c>--network host</c>), or be one this node did not start.
/// </summary>
internal static class HostAccessParameters
{
    private const string Host = "host";

    public static bool Privileged(JsonElement value, DockerPolicy policy, List<string> problems)
    {
        if (Boolean(value, "parameters.privileged", problems) is not true) return false;
        return Allowed("parameters.privileged", policy.Privileged(), problems);
    }

    /// <summary><c>bridge</c>, <c>none</c>, <c>host</c>, <c>container:&lt;name&gt;</c> or a network's name.</summary>
    public static string? NetworkMode(JsonElement value, DockerPolicy policy, List<string> problems)
    {
        const string where = "parameters.network_mode";
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } mode || mode.Any(char.IsWhiteSpace))
        {
            problems.Add($"{where}: expected a network mode such as bridge, host, none or container:<name>, got {Got(value)}");
            return null;
        }
        return !OpensHost(mode) || Allowed(where, Refusal(mode, policy.HostNetwork()), problems) ? mode : null;
    }

    /// <summary><c>host</c> or <c>container:&lt;name&gt;</c>; without it the container has a PID namespace of its own.</summary>
    public static string? PidMode(JsonElement value, DockerPolicy policy, List<string> problems) =>
        Mode(value, "parameters.pid_mode", [Host], policy.HostPid(), problems);

    /// <summary><c>private</c>, <c>shareable</c>, <c>none</c>, <c>host</c> or <c>container:&lt;name&gt;</c>.</summary>
    public static string? IpcMode(JsonElement value, DockerPolicy policy, List<string> problems) =>
        Mode(value, "parameters.ipc_mode", ["private", "shareable", "none", Host], policy.HostIpc(), problems);

    private static string? Mode(JsonElement value, string where, string[] modes, string? hostRefusal, List<string> problems)
    {
        var mode = value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
        var sharesContainer = mode is not null && mode.StartsWith("container:", StringComparison.Ordinal)
            && mode.Length > "container:".Length && !mode.Any(char.IsWhiteSpace);
        if (mode is null || !(modes.Contains(mode) || sharesContainer))
        {
            problems.Add($"{where}: expected {string.Join(", ", modes)} or container:<name>, got {Got(value)}");
            return null;
        }
        return !OpensHost(mode) || Allowed(where, Refusal(mode, hostRefusal), problems) ? mode : null;
    }

    /// <summary><c>host</c>, or another container's namespace, which may be the host's.</summary>
    private static bool OpensHost(string mode) => mode == Host || mode.StartsWith(ContainerPrefix, StringComparison.Ordinal);

    private const string ContainerPrefix = "container:";

    /// <summary>The host's refusal; for <c>container:NAME</c> said of that container, whose namespace may be the host's.</summary>
    private static string? Refusal(string mode, string? hostRefusal) =>
        hostRefusal is null || mode == Host ? hostRefusal
            : $"{mode} shares another container's namespace, which may be the host's ({hostRefusal})";

    private static bool Allowed(string where, string? refusal, List<string> problems)
    {
        if (refusal is null) return true;
        problems.Add($"{where}: {refusal}");
        return false;
    }
}
