using Docker.DotNet;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>Create, start, stats, stop, remove: one container through the VAL, checked with the engine's own eyes.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class ContainerLifecycleTests : EngineTest
{
    [Fact]
    public async Task A_container_goes_from_created_to_running_to_terminated_to_gone()
    {
        var labels = AgentLabels("abc123", "2");
        var id = await CreateAsync("""{"command": ["sleep", "300"], "name": "NAME"}""".Replace("NAME", Run), labels);

        var created = await InspectAsync(id);
        Assert.Equal("created", created.State.Status);
        Assert.Equal("/" + Run, created.Name);
        Assert.Equal(ImageState.Instantiating, await Val.GetInstanceStateAsync(id, default));
        Assert.True(await Val.HasInstanceAsync(id, default));

        await Val.StartInstanceAsync(id, default);

        var running = await InspectAsync(id);
        Assert.True(running.State.Running);
        Assert.Equal(ImageState.Running, await Val.GetInstanceStateAsync(id, default));
        foreach (var (key, value) in labels) Assert.Equal(value, running.Config.Labels[key]);
        Assert.Equal("true", running.Config.Labels["motey.managed"]);
        Assert.Equal(LocalDocker.Busybox, running.Config.Labels["motey.image.name"]);
        Assert.True(running.HostConfig.Init);
        Assert.Equal(["sleep", "300"], running.Config.Cmd);

        var stats = await Val.GetStatsAsync(id, default);
        Assert.NotNull(stats);
        Assert.Equal(id, stats.Name);
        Assert.Equal(LocalDocker.Busybox, stats.ImageName);
        Assert.Equal(ImageState.Running, stats.Status);
        Assert.Null(stats.ExitCode);
        Assert.True(stats.UsedMemory > 0, $"memory {stats.UsedMemory}");
        Assert.True(stats.UsedCpu >= 0);
        Assert.Null(stats.Ip); // network mode none: no address of its own
        Assert.InRange(stats.CreatedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));

        // Other tests' containers may count too, and figures move between samples: only "something" is certain.
        var all = await Val.GetAllInstancesStatsAsync(default);
        Assert.True(all.UsedMemory > 0, $"memory of all {all.UsedMemory}");

        await Val.StopInstanceAsync(id, default);

        Assert.Equal(ImageState.Terminated, await Val.GetInstanceStateAsync(id, default));
        var stopped = await Val.GetStatsAsync(id, default);
        Assert.NotNull(stopped);
        Assert.Equal(ImageState.Terminated, stopped.Status);
        Assert.Equal(143, stopped.ExitCode); // sleep ended by the SIGTERM the init passed on: 128 + 15
        Assert.Equal(0, stopped.UsedMemory);
        Assert.True(await Val.HasInstanceAsync(id, default));

        await Val.RemoveInstanceAsync(id, default);

        Assert.False(await Val.HasInstanceAsync(id, default));
        Assert.Null(await Val.GetStatsAsync(id, default));
        Assert.Equal(ImageState.Terminated, await Val.GetInstanceStateAsync(id, default));
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => InspectAsync(id));
    }

    [Fact]
    public async Task A_stopped_container_can_be_started_again()
    {
        var id = await RunAsync();
        await Val.StopInstanceAsync(id, default);
        Assert.Equal(ImageState.Terminated, await Val.GetInstanceStateAsync(id, default));

        await Val.StartInstanceAsync(id, default);

        Assert.Equal(ImageState.Running, await Val.GetInstanceStateAsync(id, default));
        await Val.StartInstanceAsync(id, default); // starting a running one is fine
    }

    [Fact]
    public async Task A_shell_as_pid_1_stops_quickly_because_the_engine_init_forwards_sigterm()
    {
        // busybox sh as PID 1 would ignore SIGTERM and wait out the 10 s stop timeout.
        var id = await RunAsync("""{"command": ["sh", "-c", "while true; do sleep 1; done"]}""");

        await Val.StopInstanceAsync(id, default);

        Assert.Equal(ImageState.Terminated, await Val.GetInstanceStateAsync(id, default));
        // 143 = ended by SIGTERM; a shell as PID 1 would have ignored it and been killed after the timeout (137).
        Assert.Equal(143, (await Val.GetStatsAsync(id, default))?.ExitCode);
    }

    [Fact]
    public async Task A_removed_running_container_is_stopped_and_gone()
    {
        var id = await RunAsync();

        await Val.RemoveInstanceAsync(id, default);

        Assert.False(await Val.HasInstanceAsync(id, default));
    }

    [Fact]
    public async Task Unknown_containers_are_terminated_stats_null_and_stop_or_remove_are_no_errors()
    {
        var unknown = Run + "-never-created";

        Assert.False(await Val.HasInstanceAsync(unknown, default));
        Assert.Equal(ImageState.Terminated, await Val.GetInstanceStateAsync(unknown, default));
        Assert.Null(await Val.GetStatsAsync(unknown, default));
        await Val.StopInstanceAsync(unknown, default);
        await Val.RemoveInstanceAsync(unknown, default);
        var error = await Assert.ThrowsAsync<ValException>(() => Val.StartInstanceAsync(unknown, default));
        Assert.Contains(unknown, error.Message);
    }

    [Fact]
    public async Task A_container_that_cannot_be_created_fails_with_the_engines_message()
    {
        var name = Run;
        await CreateAsync($$"""{"name": "{{name}}"}""");

        var error = await Assert.ThrowsAsync<ValException>(() => CreateAsync($$"""{"name": "{{name}}"}"""));

        Assert.StartsWith($"creating a container of '{LocalDocker.Busybox}' failed: ", error.Message);
        Assert.Contains("is already in use", error.Message);
    }

    [Fact]
    public async Task Invalid_parameters_are_refused_before_the_engine_is_asked()
    {
        var error = await Assert.ThrowsAsync<ValException>(() => CreateAsync("""{"nmae": "x", "ports": {"80/tcp": [1]}}"""));

        Assert.Contains("parameters.nmae: unknown parameter", error.Message);
        Assert.Contains("parameters.ports.80/tcp: expected a port number 1-65535, got list", error.Message);
    }
}
