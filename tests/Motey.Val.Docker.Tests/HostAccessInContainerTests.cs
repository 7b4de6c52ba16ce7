using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>On a node whose <c>[DOCKER]</c> policy allows each host option, each one takes effect in the real container.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class AllowedHostAccessTests : EngineTest
{
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["allow_privileged"] = "true",
        ["allow_host_pid"] = "true",
        ["allow_host_ipc"] = "true",
        ["allowed_capabilities"] = "NET_ADMIN",
        ["allowed_devices"] = "/dev/null",
    };

    [Fact]
    public async Task Allowed_host_options_reach_the_containers_configuration()
    {
        // Created, not started: this test machine (itself a container) lacks the capabilities a privileged container gets.
        var id = await CreateAsync("""
            {"command": ["sleep", "300"], "privileged": true, "pid_mode": "host", "ipc_mode": "host", "cap_add": ["net_admin"],
             "devices": ["/dev/null:/dev/motey-null:rw"]}
            """);

        var host = (await InspectAsync(id)).HostConfig;
        Assert.True(host.Privileged);
        Assert.Equal("host", host.PidMode);
        Assert.Equal("host", host.IpcMode);
        Assert.Equal(["CAP_NET_ADMIN"], host.CapAdd);
        var device = Assert.Single(host.Devices);
        Assert.Equal(("/dev/null", "/dev/motey-null", "rw"), (device.PathOnHost, device.PathInContainer, device.CgroupPermissions));
    }

    [Fact]
    public async Task An_added_capability_and_a_device_are_there_in_the_running_container()
    {
        // CAP_NET_ADMIN is bit 12 of the effective set (not in Docker's default set); the device takes writes like /dev/null.
        const string Check = """
            {"command": ["sh", "-c", "e=$(grep CapEff /proc/self/status | cut -f2); test $(( 0x$e >> 12 & 1 )) = 1 && echo x > /dev/motey-null"],
             "devices": ["/dev/null:/dev/motey-null"]
            """;
        var added = await RunAsync(Check + """, "cap_add": ["NET_ADMIN"]}""");
        var plain = await RunAsync(Check + "}");

        await WaitForStateAsync(added, ImageState.Terminated, "the check with the capability ran");
        await WaitForStateAsync(plain, ImageState.Terminated, "the check without it ran");
        Assert.Equal(0, (await Val.GetStatsAsync(added, default))?.ExitCode);
        Assert.Equal(1, (await Val.GetStatsAsync(plain, default))?.ExitCode);
    }

    [Fact]
    public async Task The_host_pid_namespace_shows_the_hosts_processes_inside_the_container()
    {
        // The test's own pid is alive inside only when the container shares the host's PID namespace.
        var check = $$"""{"command": ["test", "-d", "/proc/{{Environment.ProcessId}}"]""";
        var shared = await RunAsync(check + """, "pid_mode": "host"}""");
        var own = await RunAsync(check + "}");

        await WaitForStateAsync(shared, ImageState.Terminated, "the check in the host's namespace ran");
        await WaitForStateAsync(own, ImageState.Terminated, "the check in the container's own namespace ran");
        Assert.Equal(0, (await Val.GetStatsAsync(shared, default))?.ExitCode);
        Assert.Equal(1, (await Val.GetStatsAsync(own, default))?.ExitCode);
    }
}

/// <summary>On a node with the default policy, a create the policy forbids (a peer's deploy) leaves no container behind.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class ForbiddenHostAccessTests : EngineTest
{
    [Theory]
    [InlineData("""{"privileged": true}""", "parameters.privileged: privileged containers are not allowed on this node; [DOCKER] allow_privileged = true allows them")]
    [InlineData("""{"pid_mode": "host"}""", "parameters.pid_mode: the host's PID namespace is not allowed on this node; [DOCKER] allow_host_pid = true allows it")]
    [InlineData("""{"volumes": ["/etc:/host-etc:ro"]}""", "parameters.volumes[0]: bind mounts of host path /etc are not allowed on this node; adding /etc (or a folder above it) to [DOCKER] allowed_bind_paths allows them")]
    public async Task A_create_the_policy_forbids_is_refused_with_the_same_message_and_no_container_exists(string parameters, string message)
    {
        var error = await Assert.ThrowsAsync<ValException>(() => CreateAsync(parameters));

        Assert.Equal(message, error.Message);
        var mine = await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RunLabel}={Run}"] = true } },
        });
        Assert.Empty(mine);
    }
}
