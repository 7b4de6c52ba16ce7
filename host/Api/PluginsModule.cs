using Carter;
using Motey.Host.Plugins;

namespace Motey.Host.Api;

/// <summary>/v1/plugins: every plugin folder with its state and, when it is not usable, why.</summary>
public sealed class PluginsModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/plugins", (PluginCatalog catalog) => Results.Json(catalog.List())).WithTags("plugins");
}
