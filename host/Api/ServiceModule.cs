using Carter;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Motey.Abstractions;
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
        group.MapGet("", ListAsync);
        group.MapPost("", CreateAsync);
        group.MapDelete("", DeleteBySelectorAsync);
        group.MapGet("{id}", GetAsync);
        group.MapDelete("{id}", DeleteByIdAsync);
    }

    /// <summary>The JSON Results.Json would write, with its options, serialized once per change of the list.</summary>
    private static async Task<IResult> ListAsync(ServiceRepository services, IOptions<JsonOptions> json, CancellationToken ct) =>
        new SerializedJsonResult(await services.AllAsJsonAsync(json.Value.SerializerOptions, ct));

    private static async Task<IResult> GetAsync(string id, ServiceRepository services, CancellationToken ct) =>
        await services.GetAsync(id, ct) is { } service ? Results.Json(service) : Problems.NotFound($"no service with id '{id}'");

    private static async Task<IResult> CreateAsync(
        HttpRequest request, MoteySettings settings, BlueprintValidator validator, Orchestrator orchestrator, CancellationToken ct)
    {
        var (text, problem) = await RequestBody.ReadAsync(request, RequestBody.Yaml, settings.WebServer.MaxBodyBytes, ct);
        if (problem is not null) return problem;
        var parsed = BlueprintParser.Parse(text!);
        if (!parsed.Ok) return Problems.Invalid("Invalid blueprint", parsed.Errors);
        var errors = validator.Validate(parsed.Value!);
        if (errors.Count > 0) return Problems.Invalid("Invalid blueprint", errors);
        var service = await orchestrator.AcceptAsync(parsed.Value!, ct);
        return Results.Json(service, statusCode: StatusCodes.Status201Created, contentType: null)
            .WithLocation($"/v1/service/{service.Id}");
    }

    /// <summary>The seed's DELETE: a YAML document naming the service by id, else by service_name (all services of that name). 201 once termination started.</summary>
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
        foreach (var service in matches) orchestrator.RequestTermination(service.Id);
        return Results.Json(matches, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteByIdAsync(string id, ServiceRepository services, Orchestrator orchestrator, CancellationToken ct)
    {
        if (await services.GetAsync(id, ct) is not { } service) return Problems.NotFound($"no service with id '{id}'");
        orchestrator.RequestTermination(id);
        return Results.Json(service, statusCode: StatusCodes.Status202Accepted);
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
