using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>The engine's container states in the agent's words.</summary>
internal static class ContainerStates
{
    /// <summary>The states of a container that has not ended: what the agent adopts after a restart.</summary>
    public static readonly string[] NotEnded = ["created", "running", "restarting", "paused"];

    /// <summary>
    /// created/restarting → Instantiating, running → Running, paused/removing → Stopping, exited/dead → Terminated;
    /// anything else (a state a newer engine adds, or none) → Error. A container that does not exist is Terminated,
    /// but that is the caller's case: here there is a state to map.
    /// </summary>
    public static ImageState ToImageState(string? status) => status switch
    {
        "created" or "restarting" => ImageState.Instantiating,
        "running" => ImageState.Running,
        "paused" or "removing" => ImageState.Stopping,
        "exited" or "dead" => ImageState.Terminated,
        _ => ImageState.Error,
    };

    /// <summary>The exit code once the container has ended; null while it has not.</summary>
    public static int? ExitCodeOf(ContainerState? state) =>
        state?.Status is "exited" or "dead" ? (int)state.ExitCode : null;
}
