using Motey.Abstractions;

namespace Motey.Val.Process;

/// <summary>What /proc says about an instance right now.</summary>
/// <param name="State">The instance's state.</param>
/// <param name="Stat">Its /proc stat line; null when it is gone.</param>
internal readonly record struct ProcessView(ImageState State, ProcStat? Stat)
{
    public static readonly ProcessView Gone = new(ImageState.Terminated, null);

    /// <summary>The process exists and is not a zombie.</summary>
    public bool IsAlive => State != ImageState.Terminated;
}

/// <summary>Maps an instance id to the live process it names, if that process still exists.</summary>
internal static class InstanceProbe
{
    /// <summary>
    /// Gone when the pid is free, now belongs to a process with another start time, or the record was
    /// written in another boot (pids and start times repeat across reboots). Zombies are gone too.
    /// </summary>
    public static ProcessView Inspect(ProcessInstanceId id, InstanceRecord? record)
    {
        if (record?.BootId is { } bootId && ProcFs.BootId is { } currentBoot && bootId != currentBoot) return ProcessView.Gone;
        var stat = ProcFs.ReadStat(id.Pid);
        if (stat is not { } s || s.StartTime != id.StartTime) return ProcessView.Gone;
        var state = s.State switch
        {
            'Z' or 'X' or 'x' => ImageState.Terminated,
            // T: stopped by a signal. Either held by our launcher (created, not started) or paused by someone.
            'T' => ProcessLauncher.IsHeld(id.Pid) ? ImageState.Initial : ImageState.Stopping,
            // R, S, D, I, W, P, and t (a tracer such as strace or a debugger holds it for a moment).
            _ => ImageState.Running,
        };
        return new ProcessView(state, state == ImageState.Terminated ? null : s);
    }
}
