using System.Text.Json.Serialization;
using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Storage;

namespace Motey.Host.Api;

/// <summary>/v1/nodes: the nodes this node knows, itself first.</summary>
public sealed class NodesModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/nodes", async (NodeRepository nodes, CancellationToken ct) =>
                Results.Json((await nodes.AllAsync(ct)).Select(n => new NodeView(n.Address, n.IsSelf, n.LastSeen))))
            .WithTags("nodes")
            .WithSummary("The nodes this node knows, itself included")
            .Produces<NodeView[]>()
            .WithResponseExample(StatusCodes.Status200OK, """[{"ip": "127.0.0.1", "self": true, "last_seen": "2026-12-01T04:44:13+00:00"}]""");

    private sealed record NodeView(
        [property: JsonPropertyName("ip")] string Ip,
        [property: JsonPropertyName("self")] bool Self,
        [property: JsonPropertyName("last_seen")] DateTimeOffset LastSeen);
}
