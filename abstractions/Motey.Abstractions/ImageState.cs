namespace Motey.Abstractions;

/// <summary>State of one image instance. The numbers are on the wire (REST, ZeroMQ) and must not change.</summary>
public enum ImageState
{
    /// <summary>Accepted, not yet placed or started.</summary>
    Initial = 0,
    /// <summary>Being created or started by a VAL.</summary>
    Instantiating = 1,
    /// <summary>Running.</summary>
    Running = 2,
    /// <summary>Being stopped.</summary>
    Stopping = 3,
    /// <summary>Stopped, or gone.</summary>
    Terminated = 4,
    /// <summary>Failed; the image's state message says why.</summary>
    Error = 5,
}
