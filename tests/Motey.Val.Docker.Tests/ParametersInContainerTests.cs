using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>Blueprint parameters reach the real container: what it runs, sees and may use.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class ParametersInContainerTests : EngineTest
{
    private readonly TempDirectory _data = new("motey-docker-tests-");

    /// <summary>The policy these tests need: binds of their own folder, and the host's network.</summary>
    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["allowed_bind_paths"] = _data.Path,
        ["allow_host_network"] = "true",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Command_environment_and_a_bind_volume_reach_the_container()
    {
        var id = await RunAsync($$$"""
            {
              "command": ["sh", "-c", "echo hi > /data/out; echo \"$GREETING $COUNT\" > /data/env"],
              "environment": {"GREETING": "hello", "COUNT": 3},
              "volumes": {"{{{_data.Path}}}": {"bind": "/data", "mode": "rw"}}
            }
            """);

        await WaitForStateAsync(id, ImageState.Terminated, "the command ran");
        Assert.Equal(0, (await Val.GetStatsAsync(id, default))?.ExitCode);
        Assert.Equal("hi\n", await File.ReadAllTextAsync(Path.Combine(_data.Path, "out")));
        Assert.Equal("hello 3\n", await File.ReadAllTextAsync(Path.Combine(_data.Path, "env")));
    }

    [Fact]
    public async Task A_command_string_is_split_into_words_and_list_forms_of_environment_and_volumes_work()
    {
        var id = await RunAsync($$"""
            {
              "command": "sh -c 'echo \"$A\" > /data/out'",
              "environment": ["A=from a list"],
              "volumes": ["{{_data.Path}}:/data"]
            }
            """);

        await WaitForStateAsync(id, ImageState.Terminated, "the command ran");
        Assert.Equal("from a list\n", await File.ReadAllTextAsync(Path.Combine(_data.Path, "out")));
    }

    [Fact]
    public async Task A_read_only_volume_cannot_be_written()
    {
        var id = await RunAsync($$"""
            {"command": ["sh", "-c", "echo no > /data/out"], "volumes": ["{{_data.Path}}:/data:ro"]}
            """);

        await WaitForStateAsync(id, ImageState.Terminated, "the command ran");
        Assert.NotEqual(0, (await Val.GetStatsAsync(id, default))?.ExitCode);
        Assert.False(File.Exists(Path.Combine(_data.Path, "out")));
    }

    [Fact]
    public async Task Limits_name_labels_and_init_are_set_on_the_container_and_no_docker_restart_policy()
    {
        var id = await CreateAsync($$"""
            {
              "name": "{{Run}}", "mem_limit": "64m", "cpus": 0.5, "init": false, "detach": true,
              "labels": {"team": "fog", "tier": 2}, "restart_policy": "always", "command": "sleep 300",
              "ports": {"8080/tcp": 18080}
            }
            """);

        var container = await InspectAsync(id);

        Assert.Equal("/" + Run, container.Name);
        Assert.Equal(64L * 1024 * 1024, container.HostConfig.Memory);
        Assert.Equal(500_000_000L, container.HostConfig.NanoCPUs);
        Assert.False(container.HostConfig.Init);
        Assert.Equal("none", container.HostConfig.NetworkMode);
        Assert.Equal("fog", container.Config.Labels["team"]);
        Assert.Equal("2", container.Config.Labels["tier"]);
        Assert.Equal(["sleep", "300"], container.Config.Cmd);
        Assert.True(container.Config.ExposedPorts.ContainsKey("8080/tcp"));
        Assert.Equal("18080", Assert.Single(container.HostConfig.PortBindings["8080/tcp"]).HostPort);
        // The agent restarts instances itself; a Docker policy would race it.
        Assert.True(container.HostConfig.RestartPolicy.Name is RestartPolicyKind.Undefined or RestartPolicyKind.No,
            $"restart policy {container.HostConfig.RestartPolicy.Name}");
    }

    [Fact]
    public async Task Host_network_mode_is_used()
    {
        var id = await RunAsync("""{"network_mode": "host", "command": ["sleep", "300"]}""");

        Assert.Equal("host", (await InspectAsync(id)).HostConfig.NetworkMode);
        Assert.Equal(ImageState.Running, await Val.GetInstanceStateAsync(id, default));
    }
}
