using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Motey.Abstractions;

namespace Motey.Val.Process;

/// <summary>Ends an instance's process: SIGTERM, a grace period, then SIGKILL.</summary>
internal sealed class ProcessStopper(ILogger logger)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    // After SIGKILL only a process stuck in the kernel (state D) lingers; waiting forever would hang the agent.
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    /// <summary>Stops the process of an instance this VAL created; a process that is gone already is fine.</summary>
    public async Task StopAsync(ProcessInstanceId id, InstanceRecord record, CancellationToken cancellationToken)
    {
        var view = InstanceProbe.Inspect(id, record);
        if (view.Stat is not { } stat) return;

        // A leader of its own group (launched through setsid) is signalled with its group, so whatever it spawned
        // ends with it, as a container's processes end with the container.
        var leadsGroup = stat.ProcessGroup == id.Pid;
        var target = leadsGroup ? -id.Pid : id.Pid;
        NativeMethods.TrySignal(target, NativeMethods.SigTerm);
        // A stopped process (or one created but never started) acts on SIGTERM only once it runs again.
        NativeMethods.TrySignal(target, NativeMethods.SigCont);

        var grace = TimeSpan.FromSeconds(record.StopTimeoutSeconds);
        if (!await WaitForExitAsync(id, record, grace, cancellationToken))
        {
            logger.LogWarning("Instance {InstanceId} did not end within {StopTimeout} after SIGTERM; sending SIGKILL", id.ToString(), grace);
            NativeMethods.TrySignal(target, NativeMethods.SigKill);
            if (!await WaitForExitAsync(id, record, KillGrace, cancellationToken))
            {
                throw new ValException($"instance '{id}' (pid {id.Pid}) did not end after SIGKILL; it may be stuck in the kernel");
            }
        }
        // Children that outlived the leader would be orphans nobody tracks. Only right after the leader's end:
        // later the group id could belong to someone else.
        if (leadsGroup) NativeMethods.TrySignal(-id.Pid, NativeMethods.SigKill);
        logger.LogInformation("Stopped instance {InstanceId}", id.ToString());
    }

    private static async Task<bool> WaitForExitAsync(ProcessInstanceId id, InstanceRecord record, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (InstanceProbe.Inspect(id, record).IsAlive)
        {
            if (clock.Elapsed >= limit) return false;
            await Task.Delay(PollInterval, cancellationToken);
        }
        return true;
    }
}
