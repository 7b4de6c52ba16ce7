using Motey.Host.Configuration;

namespace Motey.Host.Plugins;

/// <summary>Every [PLUGINS] health_interval, asks each active VAL whether its engine answers (see <see cref="PluginCatalog.CheckEnginesAsync"/>).</summary>
internal sealed class EngineMonitor(PluginCatalog catalog, MoteySettings settings, ILogger<EngineMonitor> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Plugins.HealthInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await catalog.CheckEnginesAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "Engine check failed");
            }
        }
    }
}
