using Motey.Abstractions;

namespace Motey.Host.Core.Model;

/// <summary>State of a service, derived from the states of its images. Same numbers as <see cref="ImageState"/>.</summary>
public enum ServiceState
{
    /// <summary>Accepted, nothing started yet.</summary>
    Initial = 0,
    /// <summary>At least one image is being started.</summary>
    Instantiating = 1,
    /// <summary>Every image runs.</summary>
    Running = 2,
    /// <summary>At least one image is being stopped.</summary>
    Stopping = 3,
    /// <summary>At least one image is terminated.</summary>
    Terminated = 4,
    /// <summary>At least one image failed.</summary>
    Error = 5,
}

/// <summary>How a service's state follows from its images' states.</summary>
public static class ServiceStates
{
    /// <summary>
    /// Any ERROR gives ERROR; else any TERMINATED, STOPPING, INSTANTIATING, INITIAL in that order;
    /// else (all RUNNING) RUNNING. A service without images is INITIAL.
    /// </summary>
    public static ServiceState FromImages(IEnumerable<ImageState> imageStates)
    {
        var states = imageStates.ToHashSet();
        if (states.Count == 0) return ServiceState.Initial;
        foreach (var candidate in Precedence)
        {
            if (states.Contains(candidate)) return (ServiceState)candidate;
        }
        return ServiceState.Running;
    }

    private static readonly ImageState[] Precedence =
    [
        ImageState.Error, ImageState.Terminated, ImageState.Stopping, ImageState.Instantiating, ImageState.Initial,
    ];
}
