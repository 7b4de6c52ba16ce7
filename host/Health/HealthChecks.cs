using Microsoft.Extensions.Diagnostics.HealthChecks;
using Motey.Host.Plugins;
using Motey.Host.Storage;

namespace Motey.Host.Health;

/// <summary>The store answers a query.</summary>
internal sealed class DatabaseHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.ReadAsync(async connection =>
            {
                await using var command = connection.Command("SELECT count(*) FROM capabilities");
                return await command.ExecuteScalarAsync(cancellationToken);
            }, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"database {database.Path}: {e.Message}");
        }
    }
}

/// <summary>The plugin catalog has finished loading. A broken plugin does not make the node unhealthy: it is a plugin's state.</summary>
internal sealed class PluginsHealthCheck(PluginCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.Loaded ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("plugins are still loading"));
}
