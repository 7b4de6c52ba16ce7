using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Motey.Bench;

/// <summary>
/// A program the benchmarks start (agent, bare app, fake peers), its output appended to a log file by the shell so
/// nothing in this process spends time draining it. Stopped by its own pid only: SIGTERM, then SIGKILL after a grace.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process, Stopwatch sinceStart, string logPath)
    {
        _process = process;
        SinceStart = sinceStart;
        LogPath = logPath;
    }

    /// <summary>Runs from just before the process was started: time-to-ready figures are read from it.</summary>
    public Stopwatch SinceStart { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string executable, IEnumerable<string> arguments, string logPath)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$MOTEY_BENCH_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(executable);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["MOTEY_BENCH_LOG"] = logPath;
        info.Environment.Remove("MOTEY_CONFIG");
        var clock = Stopwatch.StartNew();
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {executable}");
        return new ChildProcess(process, clock, logPath);
    }

    /// <summary>Resident memory (VmRSS) in MiB, from /proc.</summary>
    public double RssMiB() => ReadRssMiB(Pid);

    public static double ReadRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            return kb / 1024.0;
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    public string Tail(int lines = 30)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        Signal(_process.Id, 15);
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
    }

    public static void Interrupt(int pid) => Signal(pid, 2);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);
}
