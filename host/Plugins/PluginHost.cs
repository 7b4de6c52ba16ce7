using Motey.Host.Core.Capabilities;

namespace Motey.Host.Plugins;

/// <summary>
/// Start: the seed's startup_clean for plugins (the engines registered by the last run are withdrawn), then every
/// plugin loaded and activated. Stop: plugins deactivated and their capabilities withdrawn.
/// </summary>
internal sealed class PluginHost(PluginCatalog catalog, NodeCapabilities capabilities, ILogger<PluginHost> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var stale = await capabilities.WithdrawAllEnginesAsync(cancellationToken);
        log.LogInformation("{Stale} plugin capabilities of the last run withdrawn", stale);
        await catalog.LoadAllAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => catalog.DeactivateAllAsync(cancellationToken);
}
