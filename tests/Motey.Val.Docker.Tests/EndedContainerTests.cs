using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>Containers that end without the agent asking: their state and exit code are what the agent's restart policy reads.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class EndedContainerTests : EngineTest
{
    [Fact]
    public async Task A_container_killed_from_outside_is_terminated_with_exit_code_137()
    {
        var id = await RunAsync();

        await Docker.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "SIGKILL" });

        await WaitForStateAsync(id, ImageState.Terminated, "the killed container is terminated");
        var stats = await Val.GetStatsAsync(id, default);
        Assert.NotNull(stats);
        Assert.Equal(ImageState.Terminated, stats.Status);
        Assert.Equal(137, stats.ExitCode);
        Assert.DoesNotContain(await Val.GetRunningInstancesAsync(default), i => i.Id == id);
    }

    [Fact]
    public async Task A_container_whose_command_exits_is_terminated_with_its_exit_code()
    {
        var id = await RunAsync("""{"command": "sh -c 'exit 3'"}""");

        await WaitForStateAsync(id, ImageState.Terminated, "the command exited");
        Assert.Equal(3, (await Val.GetStatsAsync(id, default))?.ExitCode);
        Assert.True(await Val.HasInstanceAsync(id, default)); // known until removed
    }

    [Fact]
    public async Task A_paused_container_is_stopping_and_still_listed()
    {
        var id = await RunAsync();

        await Docker.Containers.PauseContainerAsync(id);

        Assert.Equal(ImageState.Stopping, await Val.GetInstanceStateAsync(id, default));
        Assert.Contains(await Val.GetRunningInstancesAsync(default), i => i.Id == id);
        await Docker.Containers.UnpauseContainerAsync(id);
    }
}
