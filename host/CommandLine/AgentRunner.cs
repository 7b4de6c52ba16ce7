using Motey.Host.Configuration;
using Motey.Host.CommandLine;

namespace Motey.Host.CommandLine;

/// <summary>
/// `motey run`: the agent in this process until Ctrl-C or SIGTERM (`motey stop`, systemd), with its pid in [GENERAL] pid.
/// As a daemon (<c>--daemon</c>, from `motey start`) it logs to its file only and says on stdout when it is ready.
/// </summary>
internal static class AgentRunner
{
    public static async Task<int> RunAsync(MoteySettings settings, bool daemon)
    {
        // In the foreground too (as under systemd), so `status` and `stop` know the agent and a second one is refused.
        var pidFile = new PidFile(settings.General.PidFile);
        if (pidFile.ReadLive() is { } other && other != Environment.ProcessId)
        {
            Console.Error.WriteLine($"motey: already running (pid {other}, pid file {pidFile.Path})");
            return 1;
        }
        try
        {
            pidFile.WriteCurrent();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"motey: cannot start: cannot write the pid file ([GENERAL] pid) {pidFile.Path}: {e.Message}");
            return 1;
        }
        try
        {
            WebApplication app;
            try
            {
                app = MoteyApp.Build(settings, console: !daemon);
            }
            catch (ConfigException e)
            {
                // A file config.ini names that is wrong inside: the tokens file, the REST certificate or key.
                Console.Error.WriteLine($"motey: cannot start: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // A listener option Kestrel refuses, a database or log file the agent cannot open.
                Console.Error.WriteLine($"motey: cannot start: {e.Message}");
                return 1;
            }
            await using (app)
            {
                // [GENERAL] app_name names the agent in its start, ready and stop lines.
                var name = settings.General.AppName;
                var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AgentRunner).FullName!);
                log.LogInformation("{AppName} starting: Motey.NET {Version} (pid {Pid}) using {Config}, database {Database}, log {Log}",
                    name, typeof(AgentRunner).Assembly.GetName().Version, Environment.ProcessId, settings.SourceFile ?? "the embedded defaults",
                    settings.Database.Path, settings.Logger.FilePath);
                if (settings.Mqtt.BrokerImplied)
                {
                    log.LogInformation("[MQTT] broker is not set: {Choice}", settings.Mqtt.Embedded
                        ? $"{settings.Mqtt.Ip} is this host's, so this node hosts the broker (embedded)"
                        : $"{settings.Mqtt.Ip} is not this host's, so this node joins the broker there (external)");
                }
                foreach (var warning in SecurityRules.Warnings(settings)) log.LogWarning("INSECURE: {Warning}", warning);
                app.Lifetime.ApplicationStarted.Register(() =>
                {
                    var dashboard = settings.WebServer.Dashboard && app.Urls.FirstOrDefault() is { } url ? $", the dashboard at {url.TrimEnd('/')}/" : "";
                    log.LogInformation("{AppName} ready: REST on {Urls}{Dashboard}", name, string.Join(", ", app.Urls), dashboard);
                    // `motey start` waits for this line (its output file) before it believes a heartbeat: see StartWatch.
                    if (daemon) Console.WriteLine($"{StartWatch.ReadyLine} ({name}, pid {Environment.ProcessId})");
                });
                app.Lifetime.ApplicationStopping.Register(() => log.LogInformation("{AppName} stopping (pid {Pid})", name, Environment.ProcessId));
                try
                {
                    await app.RunAsync();
                    log.LogInformation("{AppName} stopped (pid {Pid})", name, Environment.ProcessId);
                    return 0;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    // Kestrel could not bind (port in use, address not on this host), or a listener could not start.
                    log.LogCritical("Cannot start: {Error}", e.Message);
                    Console.Error.WriteLine($"motey: cannot start: {e.Message}");
                    return 1;
                }
            }
        }
        finally
        {
            pidFile.DeleteIfOwnedBy(Environment.ProcessId);
        }
    }
}
