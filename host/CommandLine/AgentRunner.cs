using Motey.Host.Configuration;
using Motey.Host.CommandLine;

namespace Motey.Host.CommandLine;

/// <summary>`motey run`: the agent in this process until Ctrl-C or SIGTERM (or, as a daemon, until `motey stop`).</summary>
internal static class AgentRunner
{
    public static async Task<int> RunAsync(MoteySettings settings, bool daemon)
    {
        var pidFile = new PidFile(settings.General.PidFile);
        if (daemon)
        {
            if (pidFile.ReadLive() is { } other && other != Environment.ProcessId)
            {
                Console.Error.WriteLine($"motey: already running (pid {other})");
                return 1;
            }
            pidFile.WriteCurrent();
        }
        try
        {
            WebApplication app;
            try
            {
                app = MoteyApp.Build(settings, console: !daemon);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // A listener option Kestrel refuses, a database or log file the agent cannot open.
                Console.Error.WriteLine($"motey: cannot start: {e.Message}");
                return 1;
            }
            await using (app)
            {
                app.Logger.LogInformation("Motey {Version} (pid {Pid}) using {Config}", typeof(AgentRunner).Assembly.GetName().Version,
                    Environment.ProcessId, settings.SourceFile ?? "the embedded defaults");
                // `motey start` waits for this line (its output file) before it believes a heartbeat: see StartWatch.
                if (daemon) app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"{StartWatch.ReadyLine} (pid {Environment.ProcessId})"));
                try
                {
                    await app.RunAsync();
                    return 0;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    // Kestrel could not bind (port in use, address not on this host), or a listener could not start.
                    app.Logger.LogCritical("Cannot start: {Error}", e.Message);
                    Console.Error.WriteLine($"motey: cannot start: {e.Message}");
                    return 1;
                }
            }
        }
        finally
        {
            if (daemon) pidFile.DeleteIfOwnedBy(Environment.ProcessId);
        }
    }
}
