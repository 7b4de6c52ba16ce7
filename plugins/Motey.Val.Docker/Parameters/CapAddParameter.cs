using System.Text.Json;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary><c>cap_add</c>: a list of kernel capabilities to add to Docker's default set, each one that <see cref="DockerPolicy"/> allows.</summary>
internal static class CapAddParameter
{
    public static IList<string>? Read(JsonElement value, DockerPolicy policy, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"parameters.cap_add: expected a list of capabilities such as [NET_ADMIN], got {ParameterKind.Of(value)}");
            return null;
        }
        var added = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var where = $"parameters.cap_add[{index++}]";
            if (item.ValueKind != JsonValueKind.String || LinuxCapabilities.Normalize(item.GetString()!) is not { } capability)
            {
                problems.Add($"{where}: expected a Linux capability such as NET_ADMIN or SYS_TIME (see capabilities(7)), got {Got(item)}");
                continue;
            }
            if (policy.Capability(capability) is { } refusal) problems.Add($"{where}: {refusal}");
            else added.Add(capability == LinuxCapabilities.All ? capability : "CAP_" + capability);
        }
        return added;
    }
}
