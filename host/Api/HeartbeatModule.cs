using Carter;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Motey.Host.Api.OpenApi;

namespace Motey.Host.Api;

/// <summary>
/// /v1/heartbeat: 204 when no health check fails, else 400 naming the failing checks (the seed's codes).
/// A degraded check (broker out of reach: the node still runs its services) does not fail the heartbeat.
/// </summary>
public sealed class HeartbeatModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/heartbeat", async (HealthCheckService health, CancellationToken ct) =>
        {
            var report = await health.CheckHealthAsync(ct);
            if (report.Status != HealthStatus.Unhealthy) return Results.NoContent();
            var failing = report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy)
                .Select(e => $"{e.Key}: {e.Value.Description ?? e.Value.Exception?.Message ?? e.Value.Status.ToString()}");
            return Results.Problem(title: "Unhealthy", detail: string.Join("; ", failing), statusCode: StatusCodes.Status400BadRequest);
        })
        .WithTags("node")
        .WithSummary("204 when no health check fails")
        .Produces(StatusCodes.Status204NoContent)
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .WithResponseExample(StatusCodes.Status400BadRequest, """
            {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Unhealthy", "status": 400,
             "detail": "database: SQLite Error 14: 'unable to open database file'."}
            """)
        .AllowAnonymous();  // a probe: open without a token (RestSecurity.OpenRoutes)
}
