using System.Runtime.InteropServices;

namespace Motey.Host.CommandLine;

/// <summary>kill(2): Process.Kill only sends SIGKILL, and a stopping agent deserves SIGTERM first.</summary>
internal static class Signals
{
    private const int SigTerm = 15;

    /// <summary>Sends SIGTERM; false (errno in <see cref="LastError"/>) when the process cannot be signalled.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    public static int LastError => Marshal.GetLastPInvokeError();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
