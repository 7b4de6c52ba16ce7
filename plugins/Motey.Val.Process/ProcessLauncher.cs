using System.Diagnostics;
using Motey.Abstractions;

namespace Motey.Val.Process;

/// <summary>
/// Starts an instance's process detached from the agent and held just before the program runs,
/// so that creating an instance does not start it yet its pid (and so its id) already exists.
/// </summary>
internal static class ProcessLauncher
{
    /// <summary>
    /// Runs as /bin/sh -c in the new session: output to the log (and stdin from /dev/null, so the agent's
    /// terminal is never read), then SIGSTOP itself; on SIGCONT it execs the program, which keeps the pid.
    /// $1 is the log file, the rest the program and its arguments.
    /// </summary>
    internal const string Script = "exec </dev/null >>\"$1\" 2>&1; shift; kill -s STOP $$; exec \"$@\"";

    /// <summary>$0 of the shell; shows in ps while an instance waits for its start.</summary>
    private const string ShellName = "motey-process";

    // setsid(1) gives the process its own session and process group: Ctrl-C in the agent's terminal does not
    // reach it, it outlives the agent, and stop can signal everything it spawned. setsid execs without a fork
    // because a .NET child is never a process group leader, so the pid stays the program's.
    private static readonly string? s_setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>Whether instances get their own session (setsid is installed).</summary>
    public static bool DetachesFromAgent => s_setsid is not null;

    // setpriv(1), also util-linux, switches user at the last moment: the held shell opens the log and enters the working
    // directory as the agent, then execs setpriv, which sets the supplementary groups (initgroups), the group and the user,
    // in that order, and execs the program, still under the same pid. Paths the user could not reach are no obstacle.
    private static readonly string? s_setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);

    /// <summary>Whether instances can run as another user than the agent's (setpriv is installed).</summary>
    public static bool CanSwitchUser => s_setpriv is not null;

    /// <summary>env (coreutils): sets the blueprint's variables after the user switch, for the program alone.</summary>
    private static readonly string? s_env = new[] { "/usr/bin/env", "/bin/env" }.FirstOrDefault(File.Exists);

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Launches the process and waits until it holds before the program; returns its pid and stat line.
    /// Its output goes to <paramref name="logPath"/>. The program runs as <paramref name="runAs"/>, or as the agent's user
    /// when null. On failure nothing is left running.
    /// </summary>
    public static async Task<(int Pid, ProcStat Stat)> LaunchHeldAsync(
        string executable, ProcessParameters parameters, string workingDirectory, string logPath, UserAccount? runAs,
        CancellationToken cancellationToken)
    {
        var pid = Launch(executable, parameters, workingDirectory, logPath, runAs);
        try
        {
            return (pid, await WaitUntilHeldAsync(pid, executable, logPath, cancellationToken));
        }
        catch
        {
            // Nothing refers to the process yet: end it rather than leave it held forever.
            NativeMethods.TrySignal(pid, NativeMethods.SigKill);
            throw;
        }
    }

    private static int Launch(string executable, ProcessParameters parameters, string workingDirectory, string logPath, UserAccount? runAs)
    {
        var start = new ProcessStartInfo(s_setsid ?? "/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        if (s_setsid is not null) start.ArgumentList.Add("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(ShellName);
        start.ArgumentList.Add(logPath);
        if (runAs is not null)
        {
            SwitchUser(start, runAs);
            // The blueprint's env must not reach setsid, the shell or setpriv, which run as the agent (root): LD_PRELOAD
            // there would run a library as root. env sets it after the switch, for the program alone.
            if (parameters.Env.Count > 0)
            {
                start.ArgumentList.Add(s_env ?? throw new ValException("cannot pass parameters.env to an instance run as another user: env (coreutils) is not installed"));
                foreach (var (name, value) in parameters.Env) start.ArgumentList.Add($"{name}={value}");
                if (executable.Contains('=', StringComparison.Ordinal))
                    throw new ValException($"cannot run {executable} with parameters.env as another user: env would take a path with '=' for a variable");
            }
        }
        else
        {
            // The program inherits the agent's environment (PATH, locale, ...) with the blueprint's env on top.
            foreach (var (name, value) in parameters.Env) start.Environment[name] = value;
        }
        start.ArgumentList.Add(executable);
        foreach (var arg in parameters.Args) start.ArgumentList.Add(arg);

        // The Process object is kept (not disposed) so the exit code can be read once the program ends:
        // setsid, sh and the program share the pid, so its exit status is the program's.
        var process = System.Diagnostics.Process.Start(start)
            ?? throw new InvalidOperationException($"could not start {start.FileName}");
        s_children[process.Id] = process;
        return process.Id;
    }

    /// <summary>Puts setpriv before the program, and the user's own HOME, USER and LOGNAME in place of the agent's.</summary>
    private static void SwitchUser(ProcessStartInfo start, UserAccount user)
    {
        var setpriv = s_setpriv ?? throw new ValException($"cannot run instances as '{user.Name}': setpriv (util-linux) is not installed");
        start.ArgumentList.Add(setpriv);
        start.ArgumentList.Add($"--regid={user.Gid}");
        start.ArgumentList.Add($"--reuid={user.Uid}");
        start.ArgumentList.Add("--init-groups");
        start.ArgumentList.Add("--");
        start.Environment["HOME"] = user.Home;
        start.Environment["USER"] = user.Name;
        start.Environment["LOGNAME"] = user.Name;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, System.Diagnostics.Process> s_children = new();

    /// <summary>
    /// The exit code of an instance this agent process launched and that has ended (128 + n when killed by
    /// signal n); null while it runs, or when it was launched before the agent's last restart.
    /// </summary>
    public static int? ExitCodeOf(int pid) =>
        s_children.TryGetValue(pid, out var process) && process.HasExited ? process.ExitCode : null;

    /// <summary>Lets go of an instance's Process object once the instance is removed.</summary>
    public static void Forget(int pid)
    {
        if (s_children.TryRemove(pid, out var process)) process.Dispose();
    }

    private static async Task<ProcStat> WaitUntilHeldAsync(int pid, string executable, string logPath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var stat = ProcFs.ReadStat(pid);
            if (stat is not { } s || s.State is 'Z' or 'X' or 'x')
            {
                throw new ValException($"could not launch '{executable}': the launcher exited early; its output: {ReadTail(logPath)}");
            }
            if (s.State == 'T' && IsHeld(pid)) return s;
            if (clock.Elapsed > ReadyTimeout)
            {
                throw new ValException($"could not launch '{executable}': the launcher was not ready within {ReadyTimeout.TotalSeconds} s");
            }
            await Task.Delay(5, cancellationToken);
        }
    }

    private static string ReadTail(string path)
    {
        var text = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        return text.Length == 0 ? "(none)" : text.Length <= 1000 ? text : text[^1000..];
    }

    /// <summary>Whether the process is still the held shell, i.e. created but not yet started.</summary>
    public static bool IsHeld(int pid) => IsHeldShell(ProcFs.ReadCommandLine(pid));

    /// <summary>Whether the process is still on its way to the program: the launcher's shell, setpriv switching user, or env setting the blueprint's variables.</summary>
    public static bool IsLaunching(int pid)
    {
        var argv = ProcFs.ReadCommandLine(pid);
        return IsHeldShell(argv) || (s_setpriv is not null && argv.Count > 0 && argv[0] == s_setpriv)
            || (s_env is not null && argv.Count > 1 && argv[0] == s_env && argv[1].Contains('=', StringComparison.Ordinal));
    }

    private static bool IsHeldShell(IReadOnlyList<string> argv) => argv.Count >= 3 && argv[1] == "-c" && argv[2] == Script;
}
