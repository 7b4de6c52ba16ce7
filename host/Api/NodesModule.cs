using System.Text.Json.Serialization;
using Carter;
using Motey.Host.Storage;

namespace Motey.Host.Api;

/// <summary>/v1/nodes: the nodes this node knows, itself first.</summary>
public sealed class NodesModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/nodes", async (NodeRepository nodes, CancellationToken ct) =>
                Results.Json((await nodes.AllAsync(ct)).Select(n => new NodeView(n.Address, n.IsSelf, n.LastSeen))))
            .WithTags("nodes");

    private sealed record NodeView(
        [property: JsonPropertyName("ip")] string Ip,
        [property: JsonPropertyName("self")] bool Self,
        [property: JsonPropertyName("last_seen")] DateTimeOffset LastSeen);
}
