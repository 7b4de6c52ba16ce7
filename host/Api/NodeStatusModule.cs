using Carter;
using Motey.Host.Health;

namespace Motey.Host.Api;

/// <summary>/v1/nodestatus: cpu, memory and disk use, answered from the background sample.</summary>
public sealed class NodeStatusModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/nodestatus", (NodeStatusSampler sampler) => Results.Json(sampler.Current())).WithTags("node");
}
