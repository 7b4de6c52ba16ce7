using System.Text.Json.Serialization;
using Carter;
using Motey.Abstractions;
using Motey.Host.Api.OpenApi;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Api;

/// <summary>/v1/instances: what this node's VALs run now, for itself and for its peers, with who placed each.</summary>
public sealed class InstancesModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/instances", async (LocalNode local, HttpResponse response, CancellationToken ct) =>
            {
                // An engine that does not answer leaves its instances out, said in a header: the others are still listed.
                var listing = await local.ListInstancesByEngineAsync(ct);
                if (listing.Unanswered.Count > 0)
                    response.Headers["Motey-Unanswered-Engines"] = string.Join(", ", listing.Unanswered.Keys.Order(StringComparer.Ordinal));
                return Results.Json(listing.Instances.Select(x => InstanceView.Of(x.Engine, x.Instance)));
            })
            .WithTags("instances")
            .WithSummary("What this node's engines run, for itself and for peers")
            .WithDescription("An engine that did not answer is named in the Motey-Unanswered-Engines header; its instances are left out.")
            .Produces<InstanceView[]>()
            .WithResponseHeader(StatusCodes.Status200OK, "Motey-Unanswered-Engines",
                "Comma-separated engines that did not answer, whose instances are left out; absent when every engine answered")
            .WithResponseExample(StatusCodes.Status200OK, """
                [{"id": "4121", "engine": "process", "image": "sleep", "service_id": "3f2a9c1e", "image_index": "0",
                  "placed_by": "127.0.0.1", "generation": "1"}]
                """);

    private sealed record InstanceView(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("engine")] string Engine,
        [property: JsonPropertyName("image")] string Image,
        [property: JsonPropertyName("service_id")] string? ServiceId,
        [property: JsonPropertyName("image_index")] string? ImageIndex,
        [property: JsonPropertyName("placed_by")] string? PlacedBy,
        [property: JsonPropertyName("generation")] string? Generation)
    {
        public static InstanceView Of(string engine, ValInstance instance)
        {
            string? Label(string key) => instance.Labels.GetValueOrDefault(key);
            return new InstanceView(instance.Id, engine, instance.ImageName,
                Label(InstanceLabels.ServiceId), Label(InstanceLabels.ImageIndex), Label(InstanceLabels.PlacedBy), Label(InstanceLabels.Generation));
        }
    }
}
