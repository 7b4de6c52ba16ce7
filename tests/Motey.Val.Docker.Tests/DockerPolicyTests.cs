using Motey.Abstractions;
using Motey.Val.Docker.Parameters;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// The <c>[DOCKER]</c> policy, through the plugin as the agent calls it before a deploy on this node (ValidateImage,
/// activated with a config section, no engine needed): every option that reaches beyond the container is refused by
/// default, naming itself and the setting that would allow it, and accepted once that setting allows it. A blueprint
/// posted to a node is checked against the parameters alone (ValidateParameters): another node may allow more.
/// </summary>
public sealed class DockerPolicyTests : IDisposable
{
    private readonly TempDirectory _root = new("motey-policy-");

    public void Dispose() => _root.Dispose();

    private static async Task<DockerVal> ActiveAsync(Dictionary<string, string?>? settings = null)
    {
        var val = new DockerVal();
        await val.ActivateAsync(Context(settings), default);
        return val;
    }

    private static async Task<IReadOnlyList<string>> ProblemsAsync(string parametersJson, Dictionary<string, string?>? settings = null) =>
        (await ActiveAsync(settings)).ValidateImage(LocalDockerImage, ParametersOf(parametersJson));

    private const string LocalDockerImage = "motey/busybox:local";

    public static TheoryData<string, string, string, string> Rules() => new()
    {
        {
            """{"privileged": true}""", "allow_privileged", "true",
            "parameters.privileged: privileged containers are not allowed on this node; [DOCKER] allow_privileged = true allows them"
        },
        {
            """{"network_mode": "host"}""", "allow_host_network", "true",
            "parameters.network_mode: the host's network is not allowed on this node; [DOCKER] allow_host_network = true allows it"
        },
        {
            // Another container's network may be the host's (a monitoring agent run with --network host).
            """{"network_mode": "container:node-exporter"}""", "allow_host_network", "true",
            "parameters.network_mode: container:node-exporter shares another container's namespace, which may be the host's "
                + "(the host's network is not allowed on this node; [DOCKER] allow_host_network = true allows it)"
        },
        {
            """{"pid_mode": "container:db"}""", "allow_host_pid", "true",
            "parameters.pid_mode: container:db shares another container's namespace, which may be the host's "
                + "(the host's PID namespace is not allowed on this node; [DOCKER] allow_host_pid = true allows it)"
        },
        {
            """{"ipc_mode": "container:db"}""", "allow_host_ipc", "true",
            "parameters.ipc_mode: container:db shares another container's namespace, which may be the host's "
                + "(the host's IPC namespace is not allowed on this node; [DOCKER] allow_host_ipc = true allows it)"
        },
        {
            """{"pid_mode": "host"}""", "allow_host_pid", "yes",
            "parameters.pid_mode: the host's PID namespace is not allowed on this node; [DOCKER] allow_host_pid = true allows it"
        },
        {
            """{"ipc_mode": "host"}""", "allow_host_ipc", "on",
            "parameters.ipc_mode: the host's IPC namespace is not allowed on this node; [DOCKER] allow_host_ipc = true allows it"
        },
        {
            """{"cap_add": ["NET_ADMIN"]}""", "allowed_capabilities", "SYS_TIME, cap_net_admin",
            "parameters.cap_add[0]: adding capability NET_ADMIN is not allowed on this node; adding NET_ADMIN to [DOCKER] allowed_capabilities allows it"
        },
        {
            """{"cap_add": ["ALL"]}""", "allowed_capabilities", "ALL",
            "parameters.cap_add[0]: adding capability ALL is not allowed on this node; adding ALL to [DOCKER] allowed_capabilities allows it"
        },
        {
            """{"devices": ["/dev/ttyUSB7:/dev/ttyUSB0:rw"]}""", "allowed_devices", "/dev/ttyUSB7",
            "parameters.devices[0]: device /dev/ttyUSB7 is not allowed on this node; adding /dev/ttyUSB7 to [DOCKER] allowed_devices allows it"
        },
        {
            """{"devices": ["/dev/bus/usb/001/002"]}""", "allowed_devices", "/dev/bus/usb/",
            "parameters.devices[0]: device /dev/bus/usb/001/002 is not allowed on this node; adding /dev/bus/usb/001/002 to [DOCKER] allowed_devices allows it"
        },
        {
            """{"volumes": {"/srv/motey/data": "/data"}}""", "allowed_bind_paths", "/srv/motey",
            "parameters.volumes./srv/motey/data: bind mounts of host path /srv/motey/data are not allowed on this node; "
                + "adding /srv/motey/data (or a folder above it) to [DOCKER] allowed_bind_paths allows them"
        },
        {
            """{"volumes": ["/srv/motey/data/:/data:ro"]}""", "allowed_bind_paths", "/srv/motey/data",
            "parameters.volumes[0]: bind mounts of host path /srv/motey/data/ (that is /srv/motey/data) are not allowed on this node; "
                + "adding /srv/motey/data (or a folder above it) to [DOCKER] allowed_bind_paths allows them"
        },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Each_option_beyond_the_container_is_refused_by_default_naming_the_setting_that_allows_it(
        string parameters, string key, string value, string refusal)
    {
        Assert.Equal([refusal], await ProblemsAsync(parameters));
        Assert.Equal([refusal], new DockerVal().ValidateImage(LocalDockerImage, ParametersOf(parameters)));  // not yet active: nothing allowed
        _ = (key, value);
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task The_parameters_alone_are_read_the_same_on_every_node_whatever_its_policy(string parameters, string key, string value, string refusal)
    {
        Assert.Empty((await ActiveAsync()).ValidateParameters(ParametersOf(parameters)));
        Assert.Empty(new DockerVal().ValidateParameters(ParametersOf(parameters)));
        _ = (key, value, refusal);
    }

    [Theory]
    [InlineData("""{"volumes": {"/": "/host"}}""", "binding the host's root folder / is never allowed")]
    [InlineData("""{"volumes": ["/var/run/docker.sock:/sock"]}""", "which would give the container control of the host")]
    [InlineData("""{"privileged": "yes"}""", "parameters.privileged: expected a boolean, got 'yes'")]
    public async Task What_no_setting_allows_and_malformed_options_are_refused_by_the_parameters_alone(string parameters, string problem)
    {
        Assert.Contains(problem, Assert.Single((await ActiveAsync()).ValidateParameters(ParametersOf(parameters))));
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Each_option_is_accepted_once_its_setting_allows_it(string parameters, string key, string value, string refusal)
    {
        Assert.Empty(await ProblemsAsync(parameters, new() { [key] = value }));
        _ = refusal;
    }

    [Theory]
    [InlineData("""{"privileged": false, "network_mode": "none", "ipc_mode": "private", "cap_add": [], "devices": []}""")]
    [InlineData("""{"network_mode": "bridge", "ipc_mode": "shareable", "volumes": {"cache": "/cache", "logs": {"bind": "/logs", "mode": "ro"}}}""")]
    public async Task Options_that_stay_inside_the_container_and_named_volumes_need_no_setting(string parameters)
    {
        Assert.Empty(await ProblemsAsync(parameters));
    }

    [Theory]
    [InlineData("/srv/data2", "/srv/data")]
    [InlineData("/srv/data/../etc", "/srv/data")]
    [InlineData("/srv", "/srv/data")]
    public async Task A_bind_path_must_be_inside_an_allowed_folder_by_whole_segments_after_dots(string source, string allowed)
    {
        var problems = await ProblemsAsync($$$"""{"volumes": {"{{{source}}}": "/data"}}""", new() { ["allowed_bind_paths"] = allowed });

        Assert.Contains("are not allowed on this node", Assert.Single(problems));
    }

    [Fact]
    public async Task A_link_inside_an_allowed_folder_that_leads_out_of_it_is_refused_as_where_it_leads()
    {
        var allowed = Directory.CreateDirectory(Path.Combine(_root.Path, "allowed")).FullName;
        File.CreateSymbolicLink(Path.Combine(allowed, "etc"), "/etc");
        var settings = new Dictionary<string, string?> { ["allowed_bind_paths"] = allowed };

        var problems = await ProblemsAsync($$"""{"volumes": ["{{allowed}}/etc:/config:ro"]}""", settings);

        Assert.Equal([$"parameters.volumes[0]: bind mounts of host path {allowed}/etc (that is /etc) are not allowed on this node; "
            + "adding /etc (or a folder above it) to [DOCKER] allowed_bind_paths allows them"], problems);
        Assert.Empty(await ProblemsAsync($$"""{"volumes": ["{{allowed}}/own:/data"]}""", settings));
    }

    [Fact]
    public async Task The_engine_gets_the_folder_that_was_checked_not_the_path_as_written()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root.Path, "data")).FullName;
        File.CreateSymbolicLink(Path.Combine(_root.Path, "current"), data);
        var policy = DockerPolicy.Closed with { AllowedBindPaths = [_root.Path] };
        var problems = new List<string>();

        var create = ContainerParameters.Build(Spec("busybox", $$"""{"volumes": ["{{_root.Path}}/current/:/data:ro"], "devices": ["/dev/null:/dev/nothing"]}"""),
            policy with { AllowedDevices = ["/dev/null"] }, problems);

        Assert.Empty(problems);
        Assert.Equal([$"{data}:/data:ro"], create.HostConfig.Binds);
        var device = Assert.Single(create.HostConfig.Devices);
        Assert.Equal(("/dev/null", "/dev/nothing", "rwm"), (device.PathOnHost, device.PathInContainer, device.CgroupPermissions));
    }

    [Theory]
    [InlineData("/var/run", "/var/run/docker.sock", "is the Docker engine's socket")]
    [InlineData("/var/run", "/var/run", "holds the Docker engine's socket")]
    [InlineData("/run", "/run/", "holds the Docker engine's socket")]
    public async Task The_docker_socket_and_folders_holding_it_are_never_bind_mounted_even_inside_an_allowed_folder(string allowed, string source, string what)
    {
        var problems = await ProblemsAsync($$$"""{"volumes": {"{{{source}}}": "/sock"}}""", new() { ["allowed_bind_paths"] = allowed });

        var problem = Assert.Single(problems);
        Assert.StartsWith($"parameters.volumes.{source}: host path {source}", problem);
        Assert.Contains(what, problem);
        Assert.EndsWith("which would give the container control of the host: never allowed, whatever [DOCKER] allowed_bind_paths says", problem);
    }

    [Fact]
    public async Task The_socket_of_the_configured_url_is_never_bind_mounted_either()
    {
        var engine = Directory.CreateDirectory(Path.Combine(_root.Path, "engine")).FullName;
        var settings = new Dictionary<string, string?> { ["url"] = $"unix://{engine}/docker.sock", ["allowed_bind_paths"] = _root.Path };

        var problem = Assert.Single(await ProblemsAsync($$$"""{"volumes": {"{{{engine}}}": "/engine"}}""", settings));

        Assert.Contains($"holds the Docker engine's socket {engine}/docker.sock", problem);
        Assert.Empty(await ProblemsAsync($$$"""{"volumes": {"{{{_root.Path}}}/other": "/other"}}""", settings));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/srv/..")]
    public async Task The_hosts_root_is_never_bind_mounted(string source)
    {
        var problem = Assert.Single(await ProblemsAsync($$$"""{"volumes": {"{{{source}}}": "/host"}}""", new() { ["allowed_bind_paths"] = "/srv" }));

        Assert.Contains("binding the host's root folder", problem);
        Assert.EndsWith("is never allowed, whatever [DOCKER] allowed_bind_paths says", problem);
    }

    [Theory]
    [InlineData("""{"privileged": "yes"}""", "parameters.privileged: expected a boolean, got 'yes'")]
    [InlineData("""{"pid_mode": "private"}""", "parameters.pid_mode: expected host or container:<name>, got 'private'")]
    [InlineData("""{"ipc_mode": "container:"}""", "parameters.ipc_mode: expected private, shareable, none, host or container:<name>, got 'container:'")]
    [InlineData("""{"cap_add": "NET_ADMIN"}""", "parameters.cap_add: expected a list of capabilities such as [NET_ADMIN], got string")]
    [InlineData("""{"cap_add": ["NET_ADMN"]}""", "parameters.cap_add[0]: expected a Linux capability such as NET_ADMIN or SYS_TIME (see capabilities(7)), got 'NET_ADMN'")]
    [InlineData("""{"devices": "/dev/null"}""", "parameters.devices: expected a list of \"host_path[:container_path[:rwm]]\" strings, got string")]
    [InlineData("""{"devices": ["dev/null"]}""", "parameters.devices[0]: expected \"host_path[:container_path[:rwm]]\" with absolute paths, got 'dev/null'")]
    [InlineData("""{"devices": ["/dev/null:/dev/null:rx"]}""", "parameters.devices[0]: expected permissions made of r, w and m (e.g. rw), got 'rx'")]
    public async Task Malformed_host_options_are_refused_whatever_the_policy(string parameters, string problem)
    {
        var open = new Dictionary<string, string?>
        {
            ["allow_privileged"] = "true", ["allow_host_pid"] = "true", ["allow_host_ipc"] = "true",
            ["allowed_capabilities"] = "ALL", ["allowed_devices"] = "/dev",
        };

        Assert.Equal([problem], await ProblemsAsync(parameters, open));
    }

    [Theory]
    [InlineData("allow_privileged", "maybe", "[DOCKER] allow_privileged: expected true or false, got 'maybe'")]
    [InlineData("allowed_capabilities", "NET_ADMIN, NET_ADMN", "[DOCKER] allowed_capabilities: expected Linux capabilities such as NET_ADMIN, SYS_TIME (see capabilities(7)), or ALL, got 'NET_ADMN'")]
    [InlineData("allowed_devices", "ttyUSB0", "[DOCKER] allowed_devices: expected absolute host paths separated by commas, got 'ttyUSB0'")]
    [InlineData("allowed_bind_paths", "/srv, data", "[DOCKER] allowed_bind_paths: expected absolute host paths separated by commas, got 'data'")]
    [InlineData("allowed_bind_paths", "/srv, /", "[DOCKER] allowed_bind_paths: '/' is the host's root folder, which is never bind-mounted; list the folders that containers may use")]
    [InlineData("allowed_bind_paths", "/srv/..", "[DOCKER] allowed_bind_paths: '/srv/..' is the host's root folder, which is never bind-mounted; list the folders that containers may use")]
    public async Task A_bad_policy_setting_fails_activation_naming_the_key(string key, string value, string message)
    {
        var error = await Assert.ThrowsAsync<ValException>(() => new DockerVal().ActivateAsync(Context(new Dictionary<string, string?> { [key] = value }), default));

        Assert.Equal(message, error.Message);
    }
}
