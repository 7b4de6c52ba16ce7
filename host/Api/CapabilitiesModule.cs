using Carter;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Motey.Host.Api.OpenApi;
using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;
using Motey.Host.Parsing;
using Motey.Host.Storage;

namespace Motey.Host.Api;

/// <summary>/v1/capabilities: list, add (PUT) and remove (DELETE) the node's capabilities.</summary>
public sealed class CapabilitiesModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/capabilities").WithTags("capabilities");
        // The JSON Results.Json would write, with its options, serialized once per change of the list.
        group.MapGet("", async (CapabilityRepository capabilities, IOptions<JsonOptions> json, CancellationToken ct) =>
            new SerializedJsonResult(await capabilities.AllAsJsonAsync(json.Value.SerializerOptions, ct)))
            .WithSummary("The node's capabilities")
            .Produces<Capability[]>()
            .WithResponseExample(StatusCodes.Status200OK, """[{"capability": "process", "capability_type": "plugin"}, """ + ListExample[1..]);
        Describe(group.MapPut("", (HttpRequest request, MoteySettings settings, NodeCapabilities capabilities, CancellationToken ct) =>
                ChangeAsync(request, settings, list => capabilities.AddAsync(list, ct), ct)),
            "Add capabilities", "201 when at least one is new, 304 when none is.");
        Describe(group.MapDelete("", (HttpRequest request, MoteySettings settings, NodeCapabilities capabilities, CancellationToken ct) =>
                ChangeAsync(request, settings, list => capabilities.RemoveAsync(list, ct), ct)),
            "Remove capabilities", "201 when at least one was there, 304 when none was.");
    }

    private const string ListExample = """[{"capability": "lab", "capability_type": "hardware"}]""";

    private static void Describe(RouteHandlerBuilder route, string summary, string description) => route
        .WithSummary(summary)
        .WithDescription(description + " Capabilities of type plugin belong to the engines and are refused.")
        .WithRequestBody<Capability[]>(RequestBody.Json)
        .WithRequestExample(ListExample)
        .Produces(StatusCodes.Status201Created)
        .Produces(StatusCodes.Status304NotModified)
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .WithResponseExample(StatusCodes.Status400BadRequest, """
            {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Invalid capability list", "status": 400,
             "detail": "$[0].capability: required", "errors": [{"where": "$[0].capability", "message": "required"}], "error_count": 1}
            """)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    /// <summary>201 when at least one capability changed, 304 when none did (the seed's codes).</summary>
    private static async Task<IResult> ChangeAsync(
        HttpRequest request, MoteySettings settings, Func<IReadOnlyList<Capability>, Task<int>> change, CancellationToken ct)
    {
        var (text, problem) = await RequestBody.ReadAsync(request, RequestBody.Json, settings.WebServer.MaxBodyBytes, ct);
        if (problem is not null) return problem;
        var parsed = CapabilityListParser.Parse(text!);
        if (!parsed.Ok) return Problems.Invalid("Invalid capability list", parsed.Errors);
        var list = parsed.Value!;
        var managed = NodeCapabilities.Refusals(list)
            .Select(r => new InputError($"$[{r.Index}].capability_type", $"{r.Problem}, not by the API"))
            .ToList();
        if (managed.Count > 0) return Problems.Invalid("Invalid capability list", managed);
        return await change(list) > 0 ? Results.StatusCode(StatusCodes.Status201Created) : Results.StatusCode(StatusCodes.Status304NotModified);
    }
}
