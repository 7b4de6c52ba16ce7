using System.Runtime.InteropServices;

namespace Motey.Tests.Shared;

/// <summary>Sends a Unix signal to a pid, as kill(1) does: how tests stop, kill and freeze the processes they started.</summary>
internal static class Signals
{
    /// <summary>SIGTERM: what a service manager sends; the process may clean up.</summary>
    public static void Terminate(int pid) => Send(pid, 15);

    /// <summary>SIGKILL: no goodbye, no cleanup.</summary>
    public static void Kill(int pid) => Send(pid, 9);

    /// <summary>SIGSTOP: the process stops where it is, every thread at once.</summary>
    public static void Freeze(int pid) => Send(pid, 19);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Send(int pid, int signal);
}
