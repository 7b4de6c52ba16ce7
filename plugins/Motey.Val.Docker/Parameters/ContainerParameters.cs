using System.Text.Json;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// A blueprint's <c>parameters</c> → the engine's create-container request, read and checked in one pass. Pure: it
/// never talks to the engine, so every mapping and refusal is testable on its own. Anything not named here is refused,
/// and what reaches beyond the container only as far as the node's <see cref="DockerPolicy"/> allows.
/// </summary>
internal static partial class ContainerParameters
{
    /// <summary>Every key a blueprint may use, in the order the refusal message lists them.</summary>
    public static readonly string[] Known =
    [
        "cap_add", "command", "cpus", "detach", "devices", "environment", "init", "ipc_mode", "labels", "mem_limit", "name",
        "nano_cpus", "network_mode", "pid_mode", "ports", "privileged", "restart_policy", "volumes",
    ];

    /// <summary>
    /// The request that creates the container of <paramref name="spec"/>: its parameters mapped, its labels plus the
    /// agent's and this VAL's. <paramref name="problems"/> gets one message per problem; the request is only usable without.
    /// </summary>
    public static CreateContainerParameters Build(InstanceSpec spec, DockerPolicy policy, List<string> problems)
    {
        var (create, labels) = Map(spec.Parameters, policy, problems);
        create.Image = spec.ImageName;
        // The agent's labels win over the blueprint's, and this VAL's over both: they are how instances are found again.
        foreach (var (key, value) in spec.Labels) labels[key] = value;
        labels[ManagedLabels.Managed] = "true";
        labels[ManagedLabels.ImageName] = spec.ImageName;
        create.Labels = labels;
        return create;
    }

    /// <summary>The parameters alone: the options they set and the blueprint's own labels.</summary>
    public static (CreateContainerParameters Create, Dictionary<string, string> Labels) Map(
        IReadOnlyDictionary<string, JsonElement> parameters, DockerPolicy policy, List<string> problems)
    {
        // Init by default: a shell or server as PID 1 ignores SIGTERM, and every stop would wait out the timeout.
        var create = new CreateContainerParameters { HostConfig = new HostConfig { Init = true } };
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        long? cpus = null, nanoCpus = null;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "name": create.Name = Name(value, problems); break;
                case "ports": PortsParameter.Read(value, create, problems); break;
                case "environment": create.Env = EnvironmentParameter.Read(value, problems); break;
                case "command": create.Cmd = CommandParameter.Read(value, problems); break;
                case "volumes": create.HostConfig.Binds = VolumesParameter.Read(value, policy, problems); break;
                case "network_mode": create.HostConfig.NetworkMode = HostAccessParameters.NetworkMode(value, policy, problems); break;
                case "pid_mode": create.HostConfig.PidMode = HostAccessParameters.PidMode(value, policy, problems); break;
                case "ipc_mode": create.HostConfig.IpcMode = HostAccessParameters.IpcMode(value, policy, problems); break;
                case "privileged": create.HostConfig.Privileged = HostAccessParameters.Privileged(value, policy, problems); break;
                case "cap_add": create.HostConfig.CapAdd = CapAddParameter.Read(value, policy, problems); break;
                case "devices": create.HostConfig.Devices = DevicesParameter.Read(value, policy, problems); break;
                case "mem_limit": create.HostConfig.Memory = ResourceParameters.MemLimit(value, problems) ?? 0; break;
                case "cpus": cpus = ResourceParameters.Cpus(value, problems); break;
                case "nano_cpus": nanoCpus = ResourceParameters.NanoCpus(value, problems); break;
                case "restart_policy": RestartPolicyParameter.Check(value, problems); break;
                case "detach": _ = Boolean(value, "parameters.detach", problems); break; // containers always run detached
                case "init": create.HostConfig.Init = Boolean(value, "parameters.init", problems) ?? true; break;
                case "labels": labels = LabelsParameter.Read(value, problems) ?? labels; break;
                default: problems.Add($"parameters.{key}: unknown parameter (known: {string.Join(", ", Known)})"); break;
            }
        }
        if (parameters.ContainsKey("cpus") && parameters.ContainsKey("nano_cpus"))
        {
            problems.Add("parameters.cpus: give either cpus or nano_cpus, not both");
        }
        create.HostConfig.NanoCPUs = cpus ?? nanoCpus ?? 0;
        return (create, labels);
    }

    private static string? Name(JsonElement value, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.String && ContainerName().IsMatch(value.GetString()!)) return value.GetString()!.TrimStart('/');
        problems.Add($"parameters.name: expected a container name of at least two of [a-zA-Z0-9_.-], starting with a letter or digit, got {Got(value)}");
        return null;
    }

    /// <summary>Docker's rule for container names (a leading slash is the engine's own notation).</summary>
    [GeneratedRegex("^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex ContainerName();
}
