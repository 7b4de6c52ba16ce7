using Motey.Val.Docker.Parameters;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>Every parameter the mapper refuses, with the message a blueprint author reads (no engine needed).</summary>
public sealed class ContainerParametersRefusalTests
{
    internal const string Known = "cap_add, command, cpus, detach, devices, environment, init, ipc_mode, labels, mem_limit, name, nano_cpus, "
        + "network_mode, pid_mode, ports, privileged, restart_policy, volumes";

    private static List<string> Problems(string parametersJson)
    {
        var problems = new List<string>();
        ContainerParameters.Map(ParametersOf(parametersJson), DockerPolicy.Closed, problems);
        return problems;
    }

    [Theory]
    // unknown keys
    [InlineData("""{"nmae": "web"}""", "parameters.nmae: unknown parameter (known: " + Known + ")")]
    [InlineData("""{"restart": "always"}""", "parameters.restart: unknown parameter (known: " + Known + ")")]
    // name
    [InlineData("""{"name": 5}""", "parameters.name: expected a container name of at least two of [a-zA-Z0-9_.-], starting with a letter or digit, got 5")]
    [InlineData("""{"name": "a"}""", "parameters.name: expected a container name of at least two of [a-zA-Z0-9_.-], starting with a letter or digit, got 'a'")]
    [InlineData("""{"name": "my web"}""", "parameters.name: expected a container name of at least two of [a-zA-Z0-9_.-], starting with a letter or digit, got 'my web'")]
    [InlineData("""{"name": "-web"}""", "parameters.name: expected a container name of at least two of [a-zA-Z0-9_.-], starting with a letter or digit, got '-web'")]
    // ports
    [InlineData("""{"ports": [80]}""", "parameters.ports: expected a map of container ports (e.g. 80/tcp) to host ports, got list")]
    [InlineData("""{"ports": {"80/tcp": [8080]}}""", "parameters.ports.80/tcp: expected a port number 1-65535, got list")]
    [InlineData("""{"ports": {"80/tcp": 70000}}""", "parameters.ports.80/tcp: expected a port number 1-65535, got 70000")]
    [InlineData("""{"ports": {"80/tcp": 0}}""", "parameters.ports.80/tcp: expected a port number 1-65535, got 0")]
    [InlineData("""{"ports": {"80/tcp": 80.5}}""", "parameters.ports.80/tcp: expected a port number 1-65535, got 80.5")]
    [InlineData("""{"ports": {"80/tcp": "http"}}""", "parameters.ports.80/tcp: expected a port number 1-65535, got 'http'")]
    [InlineData("""{"ports": {"80/tcp": true}}""", "parameters.ports.80/tcp: expected a port number 1-65535, got boolean")]
    [InlineData("""{"ports": {"http": 80}}""", "parameters.ports.http: expected a container port such as 80/tcp, 53/udp or 80, got 'http'")]
    [InlineData("""{"ports": {"80/icmp": 80}}""", "parameters.ports.80/icmp: expected a container port such as 80/tcp, 53/udp or 80, got '80/icmp'")]
    [InlineData("""{"ports": {"0": 80}}""", "parameters.ports.0: expected a container port such as 80/tcp, 53/udp or 80, got '0'")]
    [InlineData("""{"ports": {"80": 8080, "80/tcp": 8081}}""", "parameters.ports.80/tcp: the container port 80/tcp is given twice")]
    // environment
    [InlineData("""{"environment": "A=1"}""", "parameters.environment: expected a map of names to values or a list of \"NAME=value\" strings, got string")]
    [InlineData("""{"environment": {"A": {"b": 1}}}""", "parameters.environment.A: expected a string, number or boolean, got object")]
    [InlineData("""{"environment": {"A": null}}""", "parameters.environment.A: expected a string, number or boolean, got null")]
    [InlineData("""{"environment": {"A=B": "c"}}""", "parameters.environment.A=B: 'A=B' is not a valid variable name")]
    [InlineData("""{"environment": ["FOO"]}""", "parameters.environment[0]: expected a \"NAME=value\" string, got 'FOO'")]
    [InlineData("""{"environment": ["A=1", 5]}""", "parameters.environment[1]: expected a \"NAME=value\" string, got 5")]
    [InlineData("""{"environment": ["=value"]}""", "parameters.environment[0]: expected a \"NAME=value\" string, got '=value'")]
    // command
    [InlineData("""{"command": {"run": "x"}}""", "parameters.command: expected a string or a list of strings, got object")]
    [InlineData("""{"command": ""}""", "parameters.command: expected a command, got an empty string")]
    [InlineData("""{"command": []}""", "parameters.command: expected a command, got an empty list")]
    [InlineData("""{"command": ["sh", {"c": 1}]}""", "parameters.command[1]: expected a string, got object")]
    [InlineData("""{"command": "sh -c 'echo hi"}""", "parameters.command: a single quote is not closed")]
    [InlineData("""{"command": "echo \"hi"}""", "parameters.command: a double quote is not closed")]
    // volumes
    [InlineData("""{"volumes": 5}""", "parameters.volumes: expected a map of host paths to container paths or a list of \"host:container[:ro]\" strings, got number")]
    [InlineData("""{"volumes": {"./data": "/data"}}""", "parameters.volumes../data: expected an absolute host path or a volume name, got './data'")]
    [InlineData("""{"volumes": {"/srv": "data"}}""", "parameters.volumes./srv: expected an absolute container path, got 'data'")]
    [InlineData("""{"volumes": {"/srv": {"bind": "/data", "mode": "rx"}}}""", "parameters.volumes./srv: expected mode ro or rw, got 'rx'")]
    [InlineData("""{"volumes": {"/srv": 5}}""", "parameters.volumes./srv: expected a container path or {bind: /path, mode: ro|rw}, got number")]
    [InlineData("""{"volumes": {"/srv": {"mode": "ro"}}}""", "parameters.volumes./srv: missing bind (the path inside the container)")]
    [InlineData("""{"volumes": {"/srv": {"bind": "/data", "bnd": "/x"}}}""", "parameters.volumes./srv.bnd: unknown key (known: bind, mode)")]
    [InlineData("""{"volumes": {"/srv": {"bind": 5}}}""", "parameters.volumes./srv.bind: expected a string, got 5")]
    [InlineData("""{"volumes": ["just-one"]}""", "parameters.volumes[0]: expected \"host_path:container_path[:ro|rw]\", got 'just-one'")]
    [InlineData("""{"volumes": ["/a:/b:ro:x"]}""", "parameters.volumes[0]: expected \"host_path:container_path[:ro|rw]\", got '/a:/b:ro:x'")]
    [InlineData("""{"volumes": [{"/a": "/b"}]}""", "parameters.volumes[0]: expected \"host_path:container_path[:ro|rw]\", got object")]
    [InlineData("""{"volumes": ["/a:/b:rx"]}""", "parameters.volumes[0]: expected mode ro or rw, got 'rx'")]
    // network_mode
    [InlineData("""{"network_mode": ""}""", "parameters.network_mode: expected a network mode such as bridge, host, none or container:<name>, got ''")]
    [InlineData("""{"network_mode": ["host"]}""", "parameters.network_mode: expected a network mode such as bridge, host, none or container:<name>, got list")]
    // mem_limit
    [InlineData("""{"mem_limit": "lots"}""", "parameters.mem_limit: expected a number of bytes or a string such as 512m (units b, k, m, g), got 'lots'")]
    [InlineData("""{"mem_limit": "12x"}""", "parameters.mem_limit: expected a number of bytes or a string such as 512m (units b, k, m, g), got '12x'")]
    [InlineData("""{"mem_limit": 0}""", "parameters.mem_limit: expected a number of bytes or a string such as 512m (units b, k, m, g), got 0")]
    [InlineData("""{"mem_limit": -5}""", "parameters.mem_limit: expected a number of bytes or a string such as 512m (units b, k, m, g), got -5")]
    [InlineData("""{"mem_limit": 1.5}""", "parameters.mem_limit: expected a number of bytes or a string such as 512m (units b, k, m, g), got 1.5")]
    // cpus, nano_cpus
    [InlineData("""{"cpus": "two"}""", "parameters.cpus: expected a number of CPUs above 0 and up to 1024, got 'two'")]
    [InlineData("""{"cpus": 0}""", "parameters.cpus: expected a number of CPUs above 0 and up to 1024, got 0")]
    [InlineData("""{"cpus": -1}""", "parameters.cpus: expected a number of CPUs above 0 and up to 1024, got -1")]
    [InlineData("""{"nano_cpus": 1.5}""", "parameters.nano_cpus: expected a whole number above 0 (1000000000 = one CPU), got 1.5")]
    [InlineData("""{"nano_cpus": "1000"}""", "parameters.nano_cpus: expected a whole number above 0 (1000000000 = one CPU), got '1000'")]
    [InlineData("""{"cpus": 1, "nano_cpus": 1000}""", "parameters.cpus: give either cpus or nano_cpus, not both")]
    // restart_policy
    [InlineData("""{"restart_policy": "sometimes"}""", "parameters.restart_policy: expected always, on-failure or never (or {Name: ...}), got 'sometimes'")]
    [InlineData("""{"restart_policy": 3}""", "parameters.restart_policy: expected always, on-failure or never (or {Name: ...}), got number")]
    [InlineData("""{"restart_policy": {"Name": "often"}}""", "parameters.restart_policy.Name: expected always, on-failure or never (or {Name: ...}), got 'often'")]
    [InlineData("""{"restart_policy": {"Name": "always", "Delay": 5}}""", "parameters.restart_policy.Delay: unknown key (known: Name, MaximumRetryCount)")]
    [InlineData("""{"restart_policy": {"Name": "on-failure", "MaximumRetryCount": -1}}""", "parameters.restart_policy.MaximumRetryCount: expected a whole number >= 0, got -1")]
    [InlineData("""{"restart_policy": {}}""", "parameters.restart_policy: missing Name (always, on-failure or never)")]
    // detach, init
    [InlineData("""{"detach": "yes"}""", "parameters.detach: expected a boolean, got 'yes'")]
    [InlineData("""{"init": 1}""", "parameters.init: expected a boolean, got 1")]
    // labels
    [InlineData("""{"labels": ["team=fog"]}""", "parameters.labels: expected a map of label names to strings, got list")]
    [InlineData("""{"labels": {"motey.service.id": "forged"}}""", "parameters.labels.motey.service.id: labels starting with 'motey.' are reserved for the agent")]
    [InlineData("""{"labels": {"Motey.Managed": "false"}}""", "parameters.labels.Motey.Managed: labels starting with 'motey.' are reserved for the agent")]
    [InlineData("""{"labels": {"team": {"name": "fog"}}}""", "parameters.labels.team: expected a string, got object")]
    [InlineData("""{"labels": {"": "x"}}""", "parameters.labels.: a label needs a name")]
    public void A_bad_parameter_is_refused_with_one_message_naming_it(string parametersJson, string expected)
    {
        Assert.Equal([expected], Problems(parametersJson));
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var problems = Problems("""
            {"nmae": "web", "ports": {"80/tcp": [1], "http": 2}, "mem_limit": "lots", "labels": {"motey.x": "y"}, "command": "ok"}
            """);

        Assert.Equal(5, problems.Count);
        Assert.All(problems, p => Assert.StartsWith("parameters.", p));
        Assert.Contains(problems, p => p.StartsWith("parameters.nmae: unknown parameter", StringComparison.Ordinal));
        Assert.Contains("parameters.ports.80/tcp: expected a port number 1-65535, got list", problems);
        Assert.Contains(problems, p => p.StartsWith("parameters.ports.http:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("parameters.mem_limit:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("parameters.labels.motey.x:", StringComparison.Ordinal));
    }
}
