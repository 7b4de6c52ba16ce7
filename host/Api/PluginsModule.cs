using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Plugins;

namespace Motey.Host.Api;

/// <summary>/v1/plugins: every plugin folder with its state and, when it is not usable, why; and the rescan of the folder.</summary>
public sealed class PluginsModule : ICarterModule
{
    private const string ListExample = """
        [{"name": "Motey.Val.Process", "type": "process", "state": "Active", "error": null, "path": "plugins/Motey.Val.Process/Motey.Val.Process.dll",
          "version": "1.1.0.0", "engine_available": true, "engine_problem": null, "loaded_at": "2026-12-01T15:02:11.408Z",
          "last_reload": {"at": "2026-12-01T15:02:11.408Z", "outcome": "updated", "error": null}},
         {"name": "Motey.Val.Lxc", "type": "lxc", "state": "Active", "error": null, "path": "plugins/Motey.Val.Lxc/Motey.Val.Lxc.dll",
          "version": "0.3.0.0", "engine_available": true, "engine_problem": null, "loaded_at": "2026-12-01T14:40:03.120Z",
          "last_reload": {"at": "2026-12-01T15:05:40.771Z", "outcome": "failed",
                          "error": "Motey.Val.Lxc.dll is not a loadable .NET assembly: Bad IL format."}}]
        """;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/plugins", (PluginCatalog catalog) => Results.Json(catalog.List()))
            .WithTags("plugins")
            .WithSummary("Every plugin folder with its state and, when it is not usable, why")
            .WithDescription("version and loaded_at are those of the version serving; last_reload is the last change of the folder "
                + "seen while the node ran (added, updated, removed, failed: the version before keeps serving; unchanged: files "
                + "touched, content the same), null before any.")
            .Produces<PluginInfo[]>()
            .WithResponseExample(StatusCodes.Status200OK, ListExample);
        app.MapPost("/v1/plugins/rescan", async (PluginCatalog catalog, CancellationToken ct) =>
            {
                try
                {
                    return Results.Json(await catalog.RescanAsync(ct));
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                        detail: "The agent is stopping: the plugins folder is not scanned any more.");
                }
            })
            .WithTags("plugins")
            .WithSummary("Scan the plugins folder now: add, update and remove plugins to match it")
            .WithDescription("For file systems that do not notify, or with [PLUGINS] watch off. Answers once the scan is done, "
                + "with the plugins as GET /v1/plugins lists them; one scan runs at a time, so the call also waits for a scan "
                + "under way. The scan is the agent's: a client that leaves (a timeout, Ctrl-C) does not stop it. "
                + "503 once the agent is stopping.")
            .Produces<PluginInfo[]>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithResponseExample(StatusCodes.Status200OK, ListExample);
    }
}
