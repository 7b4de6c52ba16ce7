using System.Text.Json;
using Docker.DotNet.Models;
using Motey.Abstractions;
using Motey.Val.Shared;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// <c>devices</c>, as docker-py: a list of <c>host_path[:container_path[:permissions]]</c> strings (permissions some of
/// r, w, m; default rwm; the container path defaults to the host path). Each host device must be one
/// <see cref="DockerPolicy"/> allows; the engine is given the device the path names, links resolved.
/// </summary>
internal static class DevicesParameter
{
    public static IList<DeviceMapping>? Read(JsonElement value, DockerPolicy policy, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"parameters.devices: expected a list of \"host_path[:container_path[:rwm]]\" strings, got {ParameterKind.Of(value)}");
            return null;
        }
        var devices = new List<DeviceMapping>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var where = $"parameters.devices[{index++}]";
            var parts = item.ValueKind == JsonValueKind.String ? item.GetString()!.Split(':') : [];
            if (parts.Length is < 1 or > 3 || !IsAbsolute(parts[0]) || (parts.Length >= 2 && !IsAbsolute(parts[1])))
            {
                problems.Add($"{where}: expected \"host_path[:container_path[:rwm]]\" with absolute paths, got {Got(item)}");
                continue;
            }
            var permissions = parts.Length == 3 ? parts[2] : "rwm";
            if (permissions.Length == 0 || permissions.Any(c => c is not ('r' or 'w' or 'm')) || permissions.Distinct().Count() != permissions.Length)
            {
                problems.Add($"{where}: expected permissions made of r, w and m (e.g. rw), got '{permissions}'");
                continue;
            }
            if (PathCheck.Resolve(parts[0], where, problems) is not { } resolved) continue;
            if (policy.Device(parts[0], resolved) is { } refusal)
            {
                problems.Add($"{where}: {refusal}");
                continue;
            }
            devices.Add(new DeviceMapping
            {
                PathOnHost = resolved,
                PathInContainer = parts.Length >= 2 ? parts[1] : parts[0],
                CgroupPermissions = permissions,
            });
        }
        return devices;
    }

    private static bool IsAbsolute(string path) => path.StartsWith('/') && !path.Contains('\0');
}

/// <summary>Resolving a host path a blueprint gives, with a problem instead of an exception.</summary>
internal static class PathCheck
{
    /// <summary>What the path names on this host (<see cref="HostPaths.Resolve"/>), or null after adding a problem.</summary>
    public static string? Resolve(string path, string where, List<string> problems)
    {
        try
        {
            return HostPaths.Resolve(path);
        }
        catch (IOException e)
        {
            problems.Add($"{where}: {e.Message}");
            return null;
        }
    }
}
