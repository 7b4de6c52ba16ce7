using Carter;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Motey.Abstractions;
using Motey.Host.Api.OpenApi;
using Motey.Host.Configuration;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Parsing;
using Motey.Host.Storage;

namespace Motey.Host.Api;

/// <summary>/v1/service: YAML blueprints in, services out.</summary>
public sealed class ServiceModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/service").WithTags("services");
        group.MapGet("", ListAsync)
            .WithSummary("Every service this node accepted")
            .Produces<Service[]>()
            .WithResponseExample(StatusCodes.Status200OK, $"[{ServiceExample}]");
        group.MapPost("", CreateAsync)
            .WithSummary("Deploy a service from a YAML blueprint")
            .WithDescription("""
                201 with the stored service and Location: /v1/service/{id}; placement goes on in the background.
                400 lists what is wrong in errors: each {where, message}, with line and column (1-based) when the place in the YAML is known.
                """)
            .WithRequestBody<BlueprintDocument>(RequestBody.Yaml)
            .WithRequestExample(BlueprintExample)
            .Produces<Service>(StatusCodes.Status201Created)
            .WithResponseExample(StatusCodes.Status201Created, ServiceExample)
            .WithResponseHeader(StatusCodes.Status201Created, "Location", "/v1/service/{id} of the stored service")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithResponseExample(StatusCodes.Status400BadRequest, InvalidBlueprintExample)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithResponseExample(StatusCodes.Status409Conflict, ConflictExample)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapDelete("", DeleteBySelectorAsync)
            .WithSummary("End services named by id or service_name (YAML)")
            .WithDescription("201 with each service as it is after the request: terminating, or removed when it had already ended.")
            .WithRequestBody<ServiceSelectorDocument>(RequestBody.Yaml)
            .WithRequestExample("""{"service_name": "sleeper"}""")
            .Produces<Service[]>(StatusCodes.Status201Created)
            .WithResponseExample(StatusCodes.Status201Created, $"[{TerminatingExample}]")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapGet("{id}", GetAsync)
            .WithSummary("One service")
            .Produces<Service>()
            .WithResponseExample(StatusCodes.Status200OK, ServiceExample)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("{id}", DeleteByIdAsync)
            .WithSummary("End one service")
            .WithDescription("202 with the service terminating (live images STOPPING); 204 when it had ended and is now removed.")
            .Produces<Service>(StatusCodes.Status202Accepted)
            .WithResponseExample(StatusCodes.Status202Accepted, TerminatingExample)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private const string BlueprintExample = """
        {"service_name": "sleeper", "images": [{"name": "sleep", "engine": "process", "parameters": {"args": [300]}, "capabilities": ["lab"]}]}
        """;
    private const string ServiceExample = """
        {"id": "3f2a9c1e", "service_name": "sleeper", "images": [{"id": "", "name": "sleep", "engine": "process", "parameters": {"args": [300]},
         "capabilities": ["lab"], "node": null, "state": 0, "generation": 0, "restarts": 0, "state_message": ""}], "state": 0, "state_message": ""}
        """;
    private const string TerminatingExample = """
        {"id": "3f2a9c1e", "service_name": "sleeper", "images": [{"id": "4121", "name": "sleep", "engine": "process", "parameters": {"args": [300]},
         "capabilities": ["lab"], "node": "127.0.0.1", "state": 3, "generation": 1, "restarts": 0, "state_message": ""}], "state": 3, "state_message": ""}
        """;
    private const string InvalidBlueprintExample = """
        {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Invalid blueprint", "status": 400,
         "detail": "images[0].engine: required key 'engine' is missing (line 3, column 3)",
         "errors": [{"where": "images[0].engine", "message": "required key 'engine' is missing (line 3, column 3)", "line": 3, "column": 3}], "error_count": 1}
        """;
    private const string ConflictExample = """
        {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.10", "title": "Conflict", "status": 409,
         "detail": "a service named 'sleeper' has not ended", "existing_id": "3f2a9c1e"}
        """;

    /// <summary>The JSON Results.Json would write, with its options, serialized once per change of the list.</summary>
    private static async Task<IResult> ListAsync(ServiceRepository services, IOptions<JsonOptions> json, CancellationToken ct) =>
        new SerializedJsonResult(await services.AllAsJsonAsync(json.Value.SerializerOptions, ct));

    private static async Task<IResult> GetAsync(string id, ServiceRepository services, CancellationToken ct) =>
        await services.GetAsync(id, ct) is { } service ? Results.Json(service) : Problems.NotFound($"no service with id '{id}'");

    private static async Task<IResult> CreateAsync(
        HttpRequest request, MoteySettings settings, BlueprintValidator validator, Orchestrator orchestrator, ILogger<ServiceModule> log, CancellationToken ct)
    {
        var (text, problem) = await RequestBody.ReadAsync(request, RequestBody.Yaml, settings.WebServer.MaxBodyBytes, ct);
        if (problem is not null) return problem;
        var parsed = BlueprintParser.Parse(text!, out var ignored);
        if (!parsed.Ok) return Problems.Invalid("Invalid blueprint", parsed.Errors);
        var errors = validator.Validate(parsed.Value!);
        if (errors.Count > 0) return Problems.Invalid("Invalid blueprint", errors);
        if (ignored.Count > 0)
        {
            log.LogInformation("Blueprint {ServiceName}: top-level keys this agent does not read are ignored: {IgnoredKeys}",
                parsed.Value.ServiceName, IgnoredKey.Describe(ignored));
        }
        Service service;
        try
        {
            service = await orchestrator.AcceptAsync(parsed.Value!, ct);
        }
        catch (DuplicateServiceException e)
        {
            return Problems.Conflict(e.Message, e.Existing.Id);
        }
        return Results.Json(service, statusCode: StatusCodes.Status201Created, contentType: null)
            .WithLocation($"/v1/service/{service.Id}");
    }

    /// <summary>
    /// The seed's DELETE: a YAML document naming the service by id, else by service_name. 201 with each service as it is
    /// after the request: terminating (its live images STOPPING), or, when it had already ended, removed.
    /// </summary>
    private static async Task<IResult> DeleteBySelectorAsync(
        HttpRequest request, MoteySettings settings, ServiceRepository services, Orchestrator orchestrator, CancellationToken ct)
    {
        var (text, problem) = await RequestBody.ReadAsync(request, RequestBody.Yaml, settings.WebServer.MaxBodyBytes, ct);
        if (problem is not null) return problem;
        var parsed = ServiceSelectorParser.Parse(text!);
        if (!parsed.Ok) return Problems.Invalid("Invalid service selector", parsed.Errors);
        var selector = parsed.Value!;
        IReadOnlyList<Service> matches = selector.Id is { } id
            ? await services.GetAsync(id, ct) is { } one ? [one] : []
            : await services.FindByNameAsync(selector.ServiceName!, ct);
        if (matches.Count == 0)
            return Problems.NotFound(selector.Id is not null ? $"no service with id '{selector.Id}'" : $"no service named '{selector.ServiceName}'");
        var after = new List<Service>(matches.Count);
        foreach (var service in matches) after.Add(await orchestrator.EndAsync(service, ct) ?? service);
        return Results.Json(after, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>202 with the service terminating (its live images STOPPING); 204 when it had ended and is now removed.</summary>
    private static async Task<IResult> DeleteByIdAsync(string id, ServiceRepository services, Orchestrator orchestrator, CancellationToken ct)
    {
        if (await services.GetAsync(id, ct) is not { } service) return Problems.NotFound($"no service with id '{id}'");
        return await orchestrator.EndAsync(service, ct) is { } terminating
            ? Results.Json(terminating, statusCode: StatusCodes.Status202Accepted)
            : Results.NoContent();
    }
}

internal static class ResultExtensions
{
    /// <summary>Adds a Location header to a result.</summary>
    public static IResult WithLocation(this IResult result, string location) => new LocatedResult(result, location);

    private sealed class LocatedResult(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
