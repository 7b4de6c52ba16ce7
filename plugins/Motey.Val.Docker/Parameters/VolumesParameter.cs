using System.Text.Json;
using System.Text.RegularExpressions;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// <c>volumes</c>, as docker-py: a map of host paths (or named volumes) to a container path or
/// <c>{bind: /path, mode: ro|rw}</c>, or a list of <c>host:container[:ro|rw]</c> strings. Becomes the container's binds.
/// Named volumes are always allowed; a host path only where <see cref="DockerPolicy"/> allows it, and the engine is given
/// the folder the path names, links resolved, so that what was checked is what is mounted.
/// </summary>
internal static partial class VolumesParameter
{
    public static IList<string>? Read(JsonElement value, DockerPolicy policy, List<string> problems)
    {
        var binds = new List<string>();
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var entry in value.EnumerateObject())
                {
                    var where = $"parameters.volumes.{entry.Name}";
                    var (target, mode) = Target(entry.Value, where, problems);
                    if (target is not null) AddBind(binds, entry.Name, target, mode, where, policy, problems);
                }
                return binds;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    var where = $"parameters.volumes[{index++}]";
                    var parts = item.ValueKind == JsonValueKind.String ? item.GetString()!.Split(':') : [];
                    if (parts.Length is < 2 or > 3)
                    {
                        problems.Add($"{where}: expected \"host_path:container_path[:ro|rw]\", got {Got(item)}");
                        continue;
                    }
                    AddBind(binds, parts[0], parts[1], parts.Length == 3 ? parts[2] : null, where, policy, problems);
                }
                return binds;
            default:
                problems.Add($"parameters.volumes: expected a map of host paths to container paths or a list of \"host:container[:ro]\" strings, got {ParameterKind.Of(value)}");
                return null;
        }
    }

    /// <summary>The container path and mode of a map entry: a path string, or <c>{bind, mode}</c>.</summary>
    private static (string? Target, string? Mode) Target(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.String) return (value.GetString(), null);
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: expected a container path or {{bind: /path, mode: ro|rw}}, got {ParameterKind.Of(value)}");
            return (null, null);
        }
        string? bind = null, mode = null;
        var ok = true;
        foreach (var field in value.EnumerateObject())
        {
            if (field.Name is "bind" or "mode" && field.Value.ValueKind == JsonValueKind.String)
            {
                if (field.Name == "bind") bind = field.Value.GetString();
                else mode = field.Value.GetString();
                continue;
            }
            problems.Add(field.Name is "bind" or "mode"
                ? $"{where}.{field.Name}: expected a string, got {Got(field.Value)}"
                : $"{where}.{field.Name}: unknown key (known: bind, mode)");
            ok = false;
        }
        if (ok && bind is null) problems.Add($"{where}: missing bind (the path inside the container)");
        return ok ? (bind, mode) : (null, null);
    }

    private static void AddBind(
        List<string> binds, string source, string target, string? mode, string where, DockerPolicy policy, List<string> problems)
    {
        // The engine reads a bind as "source:target:mode", so a colon inside a path would shift the fields.
        if (!(IsAbsolute(source) || VolumeName().IsMatch(source)))
        {
            problems.Add($"{where}: expected an absolute host path or a volume name, got '{source}'");
        }
        else if (!IsAbsolute(target))
        {
            problems.Add($"{where}: expected an absolute container path, got '{target}'");
        }
        else if (mode is not (null or "ro" or "rw"))
        {
            problems.Add($"{where}: expected mode ro or rw, got '{mode}'");
        }
        else if ((IsAbsolute(source) ? HostFolder(source, where, policy, problems) : source) is { } host)
        {
            binds.Add(mode is null ? $"{host}:{target}" : $"{host}:{target}:{mode}");
        }
    }

    /// <summary>The host folder a bind's source names, when the policy allows it; null after adding a problem.</summary>
    private static string? HostFolder(string source, string where, DockerPolicy policy, List<string> problems)
    {
        if (PathCheck.Resolve(source, where, problems) is not { } resolved) return null;
        if (policy.BindMount(source, resolved) is not { } refusal) return resolved;
        problems.Add($"{where}: {refusal}");
        return null;
    }

    private static bool IsAbsolute(string path) => path.StartsWith('/') && !path.Contains(':') && !path.Contains('\0');

    /// <summary>Docker's rule for volume names.</summary>
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex VolumeName();
}
