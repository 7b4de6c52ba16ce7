using Microsoft.Extensions.Logging;

namespace Motey.Val.Process;

/// <summary>Launchers that an agent killed at the wrong moment left behind, found and ended when the VAL activates.</summary>
internal static class OrphanLaunchers
{
    /// <summary>
    /// Ends launchers still held before their program (created, never started) that have no instance record:
    /// an agent killed between launching and recording an instance leaves one, which nothing else could
    /// ever find, start or stop. Only launchers logging into this VAL's own folder are touched, and never one this agent
    /// process started: that one is a launch in progress (another version of this VAL, during a hot reload, records it
    /// once its program runs), not an orphan; an orphan's agent is gone, so its parent is another process.
    /// </summary>
    public static void End(DataFolders folders, ILogger logger)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || !ProcessLauncher.IsHeld(pid)) continue;
            var argv = ProcFs.ReadCommandLine(pid);
            if (argv.Count < 5 || !argv[4].StartsWith(folders.Logs + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
            if (ProcFs.ReadStat(pid) is not { } stat || stat.ParentPid == Environment.ProcessId) continue;
            if (HasRecord(folders, new ProcessInstanceId(pid, stat.StartTime))) continue;
            NativeMethods.TrySignal(pid, NativeMethods.SigKill);
            logger.LogWarning("Ended orphaned launcher {Pid}: created by an agent that stopped before recording it", pid);
        }
    }

    private static bool HasRecord(DataFolders folders, ProcessInstanceId id)
    {
        try
        {
            return folders.Records.Read(id) is not null;
        }
        catch (InvalidDataException)
        {
            return true;  // damaged, but ours: leave it to Remove
        }
    }
}
