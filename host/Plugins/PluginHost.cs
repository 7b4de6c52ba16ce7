using Motey.Abstractions;
using Motey.Host.Cluster;
using Motey.Host.Storage;

namespace Motey.Host.Plugins;

/// <summary>
/// Start: the seed's startup_clean (plugin capabilities and the node list are rebuilt, services kept),
/// then every plugin loaded and activated. Stop: plugins deactivated and their capabilities withdrawn.
/// </summary>
internal sealed class PluginHost(
    PluginCatalog catalog,
    CapabilityRepository capabilities,
    NodeRepository nodes,
    NodeIdentity identity,
    ILogger<PluginHost> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var stale = await capabilities.RemoveAllOfTypeAsync(Capability.PluginType, cancellationToken);
        await nodes.ClearAsync(cancellationToken);
        await nodes.UpsertAsync(identity.Address, isSelf: true, cancellationToken);
        log.LogInformation("Node {Address} starting; {Stale} plugin capabilities of the last run withdrawn", identity.Address, stale);
        await catalog.LoadAllAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => catalog.DeactivateAllAsync(cancellationToken);
}
