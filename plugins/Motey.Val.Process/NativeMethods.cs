using System.Runtime.InteropServices;

namespace Motey.Val.Process;

/// <summary>The few libc calls .NET has no managed API for: sending any signal, and the clock tick rate.</summary>
internal static partial class NativeMethods
{
    // Linux numbers on x86, ARM and RISC-V (the agent's platforms); MIPS and SPARC differ.
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;

    private const int Esrch = 3;
    private const int ScClkTck = 2;

    /// <summary>Sends a signal to a process (pid &gt; 0) or a process group (pid &lt; 0). False when none exists.</summary>
    public static bool TrySignal(int pid, int signal)
    {
        if (Kill(pid, signal) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Esrch) return false;
        throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {errno}");
    }

    /// <summary>Clock ticks per second, the unit of the times in /proc/&lt;pid&gt;/stat.</summary>
    public static long TicksPerSecond()
    {
        var ticks = (long)Sysconf(ScClkTck);
        return ticks > 0 ? ticks : 100; // USER_HZ is 100 on every mainstream Linux build
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "sysconf", SetLastError = true)]
    private static partial nint Sysconf(int name);
}
