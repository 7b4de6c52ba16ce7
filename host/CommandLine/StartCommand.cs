using System.Diagnostics;
using Motey.Host.Configuration;

namespace Motey.Host.CommandLine;

/// <summary>
/// motey start: runs the agent detached from the terminal and says, in one line, whether it started. It either leaves
/// a running agent that answers its heartbeat, or none: an agent that exits is quoted, an unhealthy or silent one is stopped.
/// </summary>
internal static class StartCommand
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(MoteySettings settings, TextWriter output)
    {
        var pidFile = new PidFile(settings.General.PidFile);
        if (pidFile.ReadLive() is { } running)
        {
            output.WriteLine($"motey: already running (pid {running}, pid file {pidFile.Path})");
            return 1;
        }
        if (pidFile.Read() is { } stale)
        {
            output.WriteLine($"motey: removing stale pid file {pidFile.Path} (pid {stale} is not running)");
            pidFile.Delete();
        }

        var outputFile = settings.Logger.OutputFilePath;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(outputFile)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"motey: cannot create the log folder ([LOGGER] log_path): {e.Message}");
            return 1;
        }
        using var child = Process.Start(DetachedStart(settings, outputFile))
            ?? throw new InvalidOperationException("could not start the agent process");
        var watch = new StartWatch(child, settings, outputFile);
        var log = settings.Logger.FilePath;
        switch (await watch.WaitAsync(StartTimeout))
        {
            case StartOutcome.Healthy:
                output.WriteLine($"motey: started (pid {child.Id}), REST on {watch.Url}, log {log}");
                return 0;
            case StartOutcome.Degraded:
                output.WriteLine($"motey: started (pid {child.Id}), REST on {watch.Url}, log {log}; degraded: not joined to the MQTT broker at " +
                    $"{settings.Mqtt.Ip}:{settings.Mqtt.Port} yet, the agent keeps trying (its log says why)");
                return 0;
            case StartOutcome.Unprobed:
                output.WriteLine($"motey: started (pid {child.Id}), REST on {watch.Url}, log {log}; its health is not checked: the API asks for a " +
                    "client certificate ([WEBSERVER] tls_client_ca) that motey start does not have");
                return 0;
            case StartOutcome.Exited:
                output.WriteLine($"motey: the agent (pid {child.Id}) exited with code {child.ExitCode} while starting: {watch.Reason}; log {log}");
                return 1;
            case StartOutcome.Unhealthy:
                await StopAsync(child, pidFile);
                output.WriteLine($"motey: the agent (pid {child.Id}) is unhealthy: {watch.Reason}; stopped it; log {log}");
                return 1;
            default:
                await StopAsync(child, pidFile);
                output.WriteLine($"motey: the agent (pid {child.Id}) did not get ready within {StartTimeout.TotalSeconds} s; stopped it; log {log}");
                return 1;
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within the stop timeout; the pid file goes with it.</summary>
    private static async Task StopAsync(Process child, PidFile pidFile)
    {
        if (!child.HasExited && Signals.Terminate(child.Id))
        {
            using var timeout = new CancellationTokenSource(DaemonCommands.StopTimeout);
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill();
            }
        }
        else if (!child.HasExited)
        {
            child.Kill();
        }
        await child.WaitForExitAsync();
        pidFile.DeleteIfOwnedBy(child.Id);
    }

    private static readonly string[] SetsidPaths = ["/usr/bin/setsid", "/bin/setsid"];

    /// <summary>
    /// `motey run --daemon` in a session of its own (setsid: no controlling terminal, its own process group), stdin on
    /// /dev/null, stdout and stderr to <paramref name="outputFile"/>: the agent logs to its log file only, so this file
    /// holds just its ready line, a fatal line, or a crash's stack trace. sh and setsid exec: the process started here is
    /// the agent itself.
    /// </summary>
    private static ProcessStartInfo DetachedStart(MoteySettings settings, string outputFile)
    {
        var setsid = SetsidPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("setsid (util-linux) is needed to detach the agent");
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable runs motey");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var arg in new[] { "-c", "out=$1; shift; exec \"$@\" </dev/null >\"$out\" 2>&1", "sh", outputFile, setsid, self })
            info.ArgumentList.Add(arg);
        // Run through `dotnet motey.dll`: the entry assembly must be named again.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(StartCommand).Assembly.Location);
        info.ArgumentList.Add("run");
        info.ArgumentList.Add("--daemon");
        if (settings.SourceFile is not null)
        {
            info.ArgumentList.Add("--config");
            info.ArgumentList.Add(settings.SourceFile);
        }
        return info;
    }
}
