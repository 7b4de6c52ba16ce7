using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace Motey.Host.Api.OpenApi;

/// <summary>
/// GET /openapi/v1.json: the routes as their metadata describes them (.Accepts, .Produces, .ProducesProblem, summaries),
/// plus the examples they carry and the endpoints that are no route handler (/healthz). All of it runs when the
/// document is asked for, never on an API request.
/// </summary>
internal static class MoteyOpenApi
{
    public const string ProblemJson = "application/problem+json";

    public static void Add(IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddOperationTransformer(async (operation, context, ct) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<DescribedRequestBody>().LastOrDefault() is { } body)
            {
                var schema = await context.GetOrCreateSchemaAsync(body.Type, null, ct);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = body.ContentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
                };
            }
            operation.Responses ??= [];
            operation.Responses.TryAdd("500", ServerError(await ProblemSchemaAsync(context.Document!, t => context.GetOrCreateSchemaAsync(t, null, ct))));
            AddExamples(operation, metadata);
            AddHeaders(operation, metadata);
            operation.Security = RequiredSecurity(context.ApplicationServices, metadata, context.Document);
        });
        options.AddDocumentTransformer(AddUndescribedEndpointsAsync);
        options.AddDocumentTransformer(AddSecuritySchemeAsync);
    });

    /// <summary>The scheme of [WEBSERVER] tokens, in components.securitySchemes when the node has them.</summary>
    private const string BearerScheme = "bearer";

    /// <summary>
    /// The bearer token an operation needs when the node has [WEBSERVER] tokens: none for the open probes
    /// (AllowAnonymous), and no requirement at all on a node without tokens.
    /// </summary>
    private static List<OpenApiSecurityRequirement>? RequiredSecurity(IServiceProvider services, IEnumerable<object> metadata, OpenApiDocument? document)
    {
        if (services.GetRequiredService<Configuration.MoteySettings>().WebServer.TokensFile is null) return null;
        if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any()) return [];
        return [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
    }

    private static void AddHeaders(OpenApiOperation operation, IEnumerable<object> metadata)
    {
        foreach (var header in metadata.OfType<DescribedResponseHeader>())
        {
            if (operation.Responses?.GetValueOrDefault(header.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)) is not OpenApiResponse response)
                continue;
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers[header.Name] = new OpenApiHeader
            {
                Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
        }
    }

    /// <summary>
    /// What every operation may answer besides its own codes: 500 with problem details, the exception handler's, when
    /// something the agent did not foresee failed.
    /// </summary>
    private static OpenApiResponse ServerError(IOpenApiSchema problem) => new()
    {
        Description = "Something the agent did not foresee failed; the log says what (the answer does not, to keep internals private)",
        Content = new Dictionary<string, OpenApiMediaType>
        {
            [ProblemJson] = new() { Schema = problem, Example = ProblemExample(StatusCodes.Status500InternalServerError, null) },
        },
    };

    /// <summary>
    /// A reference to the ProblemDetails component the routes' own problem answers use, so a generated client has one
    /// error type rather than one per route; the component is added when no route made it yet.
    /// </summary>
    private static async Task<IOpenApiSchema> ProblemSchemaAsync(OpenApiDocument document, Func<Type, Task<OpenApiSchema>> create)
    {
        const string name = nameof(ProblemDetails);
        if (document.Components?.Schemas?.ContainsKey(name) != true) document.AddComponent(name, await create(typeof(ProblemDetails)));
        return new OpenApiSchemaReference(name, document);
    }

    /// <summary>On a node with [WEBSERVER] tokens: the bearer scheme the operations' security requirements name.</summary>
    private static Task AddSecuritySchemeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        if (context.ApplicationServices.GetRequiredService<Configuration.MoteySettings>().WebServer.TokensFile is null) return Task.CompletedTask;
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A token from the node's [WEBSERVER] tokens file: role read for GET, admin for everything",
        };
        return Task.CompletedTask;
    }

    private static void AddExamples(OpenApiOperation operation, IList<object> metadata)
    {
        foreach (var example in metadata.OfType<OpenApiExample>())
        {
            var content = example.StatusCode is { } code
                ? operation.Responses?.GetValueOrDefault(code.ToString(System.Globalization.CultureInfo.InvariantCulture))?.Content
                : operation.RequestBody?.Content;
            foreach (var media in content?.Values ?? []) media.Example = JsonNode.Parse(example.Json);
        }
        // Every problem answer without an example of its own gets the shape every problem of this API has.
        foreach (var (code, response) in operation.Responses ?? [])
        {
            if (response.Content is { } content && content.TryGetValue(ProblemJson, out var problem) && problem.Example is null
                && int.TryParse(code, out var status))
                problem.Example = ProblemExample(status, operation.RequestBody?.Content?.Keys);
        }
    }

    private static JsonObject ProblemExample(int status, ICollection<string>? accepted)
    {
        // What the exception handler writes outside Development: no detail.
        if (status == StatusCodes.Status500InternalServerError)
        {
            return new JsonObject
            {
                ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.6.1",
                ["title"] = "An error occurred while processing your request.",
                ["status"] = status,
            };
        }
        return new JsonObject
        {
            ["type"] = status switch
            {
                400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
                403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
                404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
                409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
                413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
                415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
                _ => "about:blank",
            },
            ["title"] = status switch
            {
                413 => "Body too large",
                415 => "Unsupported content type",
                404 => "Not found",
                _ => ReasonPhrases.GetReasonPhrase(status),
            },
            ["status"] = status,
            ["detail"] = status switch
            {
                401 => "POST /v1/service needs a token: send \"Authorization: Bearer TOKEN\" with a token of role admin from [WEBSERVER] tokens",
                403 => "POST /v1/service needs a token of role admin; this token's role is read",
                404 => "no service with id '3f2a9c1e'",
                413 => "the body is larger than 1048576 bytes ([WEBSERVER] max_body_bytes)",
                415 => $"content type 'text/plain' is not accepted here; send one of: {string.Join(", ", accepted ?? [])}",
                _ => "what is wrong and where",
            },
        };
    }

    /// <summary>
    /// Endpoints that are not route handlers (the health checks' /healthz) are not in ApiExplorer: described here from
    /// the same metadata (.WithMetadata(ProducesResponseTypeMetadata), tags, summary), as GET unless they name methods.
    /// </summary>
    private static async Task AddUndescribedEndpointsAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Paths ??= [];
        var endpoints = context.ApplicationServices.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints)
        {
            var metadata = endpoint.Metadata;
            if (metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true }) continue;
            if (metadata.GetMetadata<System.Reflection.MethodInfo>() is not null) continue;  // a route handler: ApiExplorer has it
            var responses = metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>();
            if (responses.Count == 0) continue;
            var path = "/" + endpoint.RoutePattern.RawText?.Trim('/');
            if (!document.Paths.TryGetValue(path, out var item)) document.Paths[path] = item = new OpenApiPathItem();
            var operation = new OpenApiOperation
            {
                Summary = metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary,
                Description = metadata.GetMetadata<IEndpointDescriptionMetadata>()?.Description,
                Tags = new HashSet<OpenApiTagReference>(
                    metadata.GetOrderedMetadata<ITagsMetadata>().SelectMany(t => t.Tags).Select(t => new OpenApiTagReference(t, document))),
                Responses = [],
            };
            foreach (var response in responses)
            {
                var content = new Dictionary<string, OpenApiMediaType>();
                foreach (var type in response.ContentTypes)
                    content[type] = new OpenApiMediaType { Schema = response.Type is { } t ? await context.GetOrCreateSchemaAsync(t, null, ct) : null };
                operation.Responses[response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                    new OpenApiResponse { Description = ReasonPhrases.GetReasonPhrase(response.StatusCode), Content = content };
            }
            operation.Responses.TryAdd("500", ServerError(await ProblemSchemaAsync(document, t => context.GetOrCreateSchemaAsync(t, null, ct))));
            AddExamples(operation, [.. metadata]);
            AddHeaders(operation, metadata);
            operation.Security = RequiredSecurity(context.ApplicationServices, metadata, document);
            var methods = metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get];
            foreach (var method in methods)
                ((OpenApiPathItem)item).AddOperation(HttpMethod.Parse(method), operation);
        }
    }
}
