using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>The engine's container states in the agent's words.</summary>
public sealed class ContainerStatesTests
{
    [Theory]
    [InlineData("created", ImageState.Instantiating)]
    [InlineData("restarting", ImageState.Instantiating)]
    [InlineData("running", ImageState.Running)]
    [InlineData("paused", ImageState.Stopping)]
    [InlineData("removing", ImageState.Stopping)]
    [InlineData("exited", ImageState.Terminated)]
    [InlineData("dead", ImageState.Terminated)]
    [InlineData("hibernating", ImageState.Error)]
    [InlineData("", ImageState.Error)]
    [InlineData(null, ImageState.Error)]
    [InlineData("Running", ImageState.Error)]
    public void Container_state_maps_to_image_state(string? status, ImageState expected)
    {
        Assert.Equal(expected, ContainerStates.ToImageState(status));
    }

    [Theory]
    [InlineData("exited", 137L, 137)]
    [InlineData("exited", 0L, 0)]
    [InlineData("dead", 1L, 1)]
    [InlineData("running", 0L, null)]
    [InlineData("created", 0L, null)]
    [InlineData("paused", 0L, null)]
    public void Exit_code_is_known_once_the_container_has_ended(string status, long exitCode, int? expected)
    {
        Assert.Equal(expected, ContainerStates.ExitCodeOf(new ContainerState { Status = status, ExitCode = exitCode }));
    }

    [Fact]
    public void Not_ended_states_are_the_ones_the_agent_adopts()
    {
        Assert.Equal(["created", "running", "restarting", "paused"], ContainerStates.NotEnded);
        Assert.All(ContainerStates.NotEnded, s => Assert.NotEqual(ImageState.Terminated, ContainerStates.ToImageState(s)));
    }
}
