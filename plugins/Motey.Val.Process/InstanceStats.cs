using Motey.Abstractions;

namespace Motey.Val.Process;

/// <summary>Resource use of an instance's process, from /proc.</summary>
internal static class InstanceStats
{
    /// <summary>
    /// Memory (VmRSS), CPU in percent of one core averaged over the process's life, and its start time.
    /// Network counters stay 0: Linux keeps none per process. Null for a gone process without a record.
    /// </summary>
    public static ValInstanceStatus? Of(ProcessInstanceId id, InstanceRecord? record, ProcessView view)
    {
        if (view.Stat is not { } stat)
        {
            return record is null ? null : new ValInstanceStatus
            {
                Name = id.ToString(), ImageName = record.Image, CreatedAt = record.CreatedAt, Status = ImageState.Terminated,
                ExitCode = ProcessLauncher.ExitCodeOf(id.Pid),
            };
        }
        var ticks = (double)ProcFs.TicksPerSecond;
        var age = ProcFs.ReadUptimeSeconds() - stat.StartTime / ticks;
        var cpuSeconds = (stat.UserTicks + stat.SystemTicks) / ticks;
        return new ValInstanceStatus
        {
            Name = id.ToString(),
            ImageName = record?.Image ?? (ProcFs.ReadCommandLine(id.Pid) is [var command, ..] ? command : ""),
            CreatedAt = ProcFs.StartedAt(stat.StartTime),
            Status = view.State,
            ExitCode = view.State == ImageState.Terminated ? ProcessLauncher.ExitCodeOf(id.Pid) : null,
            UsedMemory = ProcFs.ReadResidentBytes(id.Pid),
            UsedCpu = age > 0 ? cpuSeconds / age * 100 : 0,
        };
    }
}
