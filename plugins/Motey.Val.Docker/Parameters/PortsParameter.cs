using System.Globalization;
using System.Text.Json;
using Docker.DotNet.Models;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// <c>ports</c>: a map of container ports (<c>80/tcp</c>, <c>53/udp</c>, or <c>80</c> for tcp) to host ports (a number,
/// a string of digits, or null for a port the engine picks), as docker-py's <c>ports</c>.
/// </summary>
internal static class PortsParameter
{
    private static readonly string[] Protocols = ["tcp", "udp", "sctp"];

    public static void Read(JsonElement value, CreateContainerParameters target, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"parameters.ports: expected a map of container ports (e.g. 80/tcp) to host ports, got {ParameterKind.Of(value)}");
            return;
        }
        var exposed = new Dictionary<string, EmptyStruct>(StringComparer.Ordinal);
        var bindings = new Dictionary<string, IList<PortBinding>>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            var where = $"parameters.ports.{entry.Name}";
            if (ContainerPort(entry.Name) is not { } port)
            {
                problems.Add($"{where}: expected a container port such as 80/tcp, 53/udp or 80, got '{entry.Name}'");
                continue;
            }
            string hostPort;
            if (entry.Value.ValueKind == JsonValueKind.Null) hostPort = "";
            else if (TryWholeNumber(entry.Value, 1, 65535, out var number)) hostPort = number.ToString(CultureInfo.InvariantCulture);
            else
            {
                problems.Add($"{where}: expected a port number 1-65535, got {Got(entry.Value)}");
                continue;
            }
            if (!exposed.TryAdd(port, default))
            {
                problems.Add($"{where}: the container port {port} is given twice");
                continue;
            }
            bindings[port] = [new PortBinding { HostPort = hostPort }];
        }
        target.ExposedPorts = exposed;
        target.HostConfig.PortBindings = bindings;
    }

    /// <summary><c>80</c> → <c>80/tcp</c>; <c>53/UDP</c> → <c>53/udp</c>; null when not a port 1-65535 with a known protocol.</summary>
    internal static string? ContainerPort(string key)
    {
        var slash = key.IndexOf('/');
        var numberText = slash < 0 ? key : key[..slash];
        var protocol = slash < 0 ? "tcp" : key[(slash + 1)..].ToLowerInvariant();
        if (!int.TryParse(numberText, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number is < 1 or > 65535 || !Protocols.Contains(protocol))
        {
            return null;
        }
        return $"{number}/{protocol}";
    }
}
