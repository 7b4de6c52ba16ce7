using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Health;

namespace Motey.Host.Api;

/// <summary>/v1/nodestatus: cpu, memory and disk use, answered from the background sample.</summary>
public sealed class NodeStatusModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/nodestatus", (NodeStatusSampler sampler) => Results.Json(sampler.Current()))
            .WithTags("node")
            .WithSummary("CPU, memory and disk use")
            .Produces<NodeStatus>()
            .WithResponseExample(StatusCodes.Status200OK, """
                {"cpu": 3.5, "memory": {"total": 8221675520, "available": 5120000000, "percent": 37.7, "used": 3101675520, "free": 1024000000},
                 "disk": {"total": 250790436864, "used": 120000000000, "free": 130790436864, "percent": 47.8}}
                """);
}
