namespace Motey.Host.Tests.Policy;

/// <summary>One rule of a node's blueprint policy: an image that breaks it, where and how it is refused, and the setting that allows it.</summary>
/// <param name="Engine">docker or process.</param>
/// <param name="Image">The image's name.</param>
/// <param name="Parameters">The image's parameters as JSON (which is YAML too).</param>
/// <param name="Where">Where a POST's 400 places the refusal, relative to the image (<c>parameters.privileged</c>).</param>
/// <param name="Message">What the refusal says, at POST and in the log of a node a peer asks to deploy.</param>
/// <param name="Setting">The setting that allows it ("SECTION:key"), and its value.</param>
public sealed record PolicyRule(string Engine, string Image, string Parameters, string Where, string Message, (string Key, string Value) Setting)
{
    public override string ToString() => $"{Engine} {Where}";

    /// <summary>The blueprint of one image that breaks the rule.</summary>
    public string Blueprint(string service) =>
        $"service_name: {service}\nimages:\n- name: {Image}\n  engine: {Engine}\n  parameters: {Parameters}\n";

    /// <summary>The deploy request another node sends (ZeroMQ), for the same image.</summary>
    public string DeployRequest() => $$"""{"name": "{{Image}}", "engine": "{{Engine}}", "parameters": {{Parameters}}}""";

    /// <summary>The refusal as a VAL words it (the log of a refused deploy says the same).</summary>
    public string Refusal => $"{Where}: {Message}";
}

/// <summary>Every rule of the Docker and process policies, shared by the REST and the peer tests so both check the same list.</summary>
public static class PolicyRules
{
    public const string Busybox = "motey/busybox:local";

    public static readonly PolicyRule[] All =
    [
        new("docker", Busybox, """{"privileged": true}""", "parameters.privileged",
            "privileged containers are not allowed on this node; [DOCKER] allow_privileged = true allows them", ("DOCKER:allow_privileged", "true")),
        new("docker", Busybox, """{"network_mode": "host"}""", "parameters.network_mode",
            "the host's network is not allowed on this node; [DOCKER] allow_host_network = true allows it", ("DOCKER:allow_host_network", "true")),
        new("docker", Busybox, """{"pid_mode": "host"}""", "parameters.pid_mode",
            "the host's PID namespace is not allowed on this node; [DOCKER] allow_host_pid = true allows it", ("DOCKER:allow_host_pid", "true")),
        new("docker", Busybox, """{"ipc_mode": "host"}""", "parameters.ipc_mode",
            "the host's IPC namespace is not allowed on this node; [DOCKER] allow_host_ipc = true allows it", ("DOCKER:allow_host_ipc", "true")),
        new("docker", Busybox, """{"cap_add": ["SYS_ADMIN"]}""", "parameters.cap_add[0]",
            "adding capability SYS_ADMIN is not allowed on this node; adding SYS_ADMIN to [DOCKER] allowed_capabilities allows it",
            ("DOCKER:allowed_capabilities", "SYS_ADMIN")),
        new("docker", Busybox, """{"devices": ["/dev/ttyUSB7:/dev/ttyUSB0"]}""", "parameters.devices[0]",
            "device /dev/ttyUSB7 is not allowed on this node; adding /dev/ttyUSB7 to [DOCKER] allowed_devices allows it",
            ("DOCKER:allowed_devices", "/dev/ttyUSB7")),
        new("docker", Busybox, """{"volumes": {"/srv/motey-data": "/data"}}""", "parameters.volumes./srv/motey-data",
            "bind mounts of host path /srv/motey-data are not allowed on this node; adding /srv/motey-data (or a folder above it) to [DOCKER] allowed_bind_paths allows them",
            ("DOCKER:allowed_bind_paths", "/srv")),
        new("process", "/usr/bin/sleep", """{"args": [300]}""", "name",
            "executable /usr/bin/sleep is not allowed on this node; adding /usr/bin/sleep (or a folder above it) to [PROCESS] allowed_executables allows it",
            ("PROCESS:allowed_executables", "/usr/bin/sleep")),
    ];

    /// <summary>What no setting allows: the Docker socket (here the default one, whatever the url) and the host's root.</summary>
    public static readonly PolicyRule[] Never =
    [
        new("docker", Busybox, """{"volumes": ["/var/run/docker.sock:/var/run/docker.sock"]}""", "parameters.volumes[0]",
            "host path /var/run/docker.sock (that is /run/docker.sock) is the Docker engine's socket, which would give the container control of the host: "
                + "never allowed, whatever [DOCKER] allowed_bind_paths says",
            ("DOCKER:allowed_bind_paths", "/var/run")),
        new("docker", Busybox, """{"volumes": {"/srv/..": "/host"}}""", "parameters.volumes./srv/..",
            "binding the host's root folder /srv/.. (that is /) is never allowed, whatever [DOCKER] allowed_bind_paths says",
            ("DOCKER:allowed_bind_paths", "/srv")),
    ];

    public static TheoryData<PolicyRule> Each() => new(All);

    public static TheoryData<PolicyRule> EachNever() => new(Never);
}
