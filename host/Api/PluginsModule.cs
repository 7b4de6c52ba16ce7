using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Plugins;

namespace Motey.Host.Api;

/// <summary>/v1/plugins: every plugin folder with its state and, when it is not usable, why.</summary>
public sealed class PluginsModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/plugins", (PluginCatalog catalog) => Results.Json(catalog.List()))
            .WithTags("plugins")
            .WithSummary("Every plugin folder with its state and, when it is not usable, why")
            .Produces<PluginInfo[]>()
            .WithResponseExample(StatusCodes.Status200OK, """
                [{"name": "Motey.Val.Process", "type": "process", "state": "Active", "error": null, "path": "plugins/Motey.Val.Process",
                  "version": "1.0.0", "engine_available": true, "engine_problem": null}]
                """);
}
