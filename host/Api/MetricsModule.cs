using System.Text.Json;
using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Metrics;
using Prometheus;

namespace Motey.Host.Api;

/// <summary>/metrics: the node's series in the Prometheus text format.</summary>
public sealed class MetricsModule : ICarterModule
{
    private const string TextFormat = "text/plain; version=0.0.4";

    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", ScrapeAsync)
            .WithTags("metrics")
            .WithSummary("The node's metrics in the Prometheus text format")
            .WithDescription("Requests, services and images by state, placements, peer requests, restarts, capability events, plugins, nodes, event subscribers and the process.")
            .Produces<string>(StatusCodes.Status200OK, TextFormat)
            .WithResponseExample(StatusCodes.Status200OK, JsonSerializer.Serialize("""
                # HELP motey_placements_total Placements of images by outcome: local, peer, waiting, error.
                # TYPE motey_placements_total counter
                motey_placements_total{outcome="local"} 3

                """.Replace("\r\n", "\n", StringComparison.Ordinal)));

    private static async Task ScrapeAsync(HttpContext http, MoteyPrometheus metrics)
    {
        http.Response.ContentType = TextFormat + "; charset=utf-8";
        await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, ExpositionFormat.PrometheusText, http.RequestAborted);
    }
}
