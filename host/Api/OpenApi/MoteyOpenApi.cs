using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Metadata;
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
            AddExamples(operation, metadata);
        });
        options.AddDocumentTransformer(AddUndescribedEndpointsAsync);
    });

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

    private static JsonObject ProblemExample(int status, ICollection<string>? accepted) => new JsonObject
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
            AddExamples(operation, [.. metadata]);
            var methods = metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get];
            foreach (var method in methods)
                ((OpenApiPathItem)item).AddOperation(HttpMethod.Parse(method), operation);
        }
    }
}
