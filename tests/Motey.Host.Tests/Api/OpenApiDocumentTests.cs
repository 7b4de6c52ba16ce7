using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Motey.Host.Api.OpenApi;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Security;

namespace Motey.Host.Tests.Api;

/// <summary>GET /openapi/v1.json read with Microsoft.OpenApi, against the endpoints the agent really maps.</summary>
public sealed class OpenApiDocumentTests : NodeTest
{
    [Fact]
    public async Task Every_mapped_route_is_described_with_its_answers_request_body_and_an_example()
    {
        var document = await ReadDocumentAsync(Node.Client);
        var routes = DescribedRoutes(Node.Services);
        Assert.Contains(routes, r => r.Path == "/healthz");
        foreach (var route in routes)
        {
            var operation = Operation(document, route.Path, route.Method);
            foreach (var answer in route.Answers)
            {
                var code = answer.StatusCode.ToString(CultureInfo.InvariantCulture);
                Assert.True(operation.Responses!.TryGetValue(code, out var response), $"{route}: no {code} in the document");
                foreach (var contentType in answer.ContentTypes)
                    Assert.True(response.Content?.ContainsKey(contentType) == true, $"{route} {code}: no {contentType}");
                if (answer.Type == typeof(ProblemDetails))
                    AssertProblemDetails(response.Content![ProblemJson].Schema, $"{route} {code}");
            }
            if (route.Body is { } body)
            {
                Assert.True(operation.RequestBody?.Content is not null, $"{route}: no request body");
                foreach (var contentType in body.ContentTypes)
                    Assert.NotNull(operation.RequestBody!.Content![contentType].Schema);
            }
            var examples = (operation.RequestBody?.Content?.Values ?? []).Concat(operation.Responses!.Values.SelectMany(r => r.Content?.Values ?? []));
            Assert.True(examples.Any(m => m.Example is not null), $"{route}: no example");
        }
    }

    [Fact]
    public async Task Post_service_takes_a_yaml_blueprint_and_answers_201_with_its_location_400_409_413_415_500()
    {
        var document = await ReadDocumentAsync(Node.Client);
        var post = Operation(document, "/v1/service", "POST");
        Assert.Equal(["201", "400", "409", "413", "415", "500"], post.Responses!.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("Location", post.Responses["201"].Headers!.Keys);
        foreach (var type in new[] { "application/x-yaml", "application/yaml", "text/yaml" })
            Assert.Contains(type, post.RequestBody!.Content!.Keys);
        var blueprint = post.RequestBody!.Content!["application/x-yaml"].Schema!;
        Assert.Equal(["images", "node_type", "service_name"], blueprint.Properties!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["capabilities", "engine", "name", "parameters"], blueprint.Properties["images"].Items!.Properties!.Keys.Order(StringComparer.Ordinal));
        var service = post.Responses["201"].Content!["application/json"].Schema!;
        Assert.Contains("service_name", service.Properties!.Keys);
        Assert.Contains("state_message", service.Properties.Keys);
    }

    [Fact]
    public async Task Delete_capabilities_takes_a_json_list_and_answers_201_304_400_413_415_500()
    {
        var document = await ReadDocumentAsync(Node.Client);
        var delete = Operation(document, "/v1/capabilities", "DELETE");
        Assert.Equal(["201", "304", "400", "413", "415", "500"], delete.Responses!.Keys.Order(StringComparer.Ordinal));
        var list = delete.RequestBody!.Content!["application/json"].Schema!;
        Assert.Equal(["capability", "capability_type"], list.Items!.Properties!.Keys.Order(StringComparer.Ordinal));
        var healthz = Operation(document, "/healthz", "GET");
        Assert.Equal(["200", "500", "503"], healthz.Responses!.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Every_operation_may_answer_500_with_the_one_problem_details_schema_and_headers_are_described()
    {
        var document = await ReadDocumentAsync(Node.Client);
        var operations = document.Paths.Values.SelectMany(p => p.Operations!.Values).ToList();
        Assert.NotEmpty(operations);
        foreach (var operation in operations)
        {
            var error = operation.Responses!["500"].Content![ProblemJson].Schema;
            Assert.Equal("ProblemDetails", Assert.IsType<OpenApiSchemaReference>(error).Reference.Id);
        }
        Assert.Contains("Motey-Unanswered-Engines", Operation(document, "/v1/instances", "GET").Responses!["200"].Headers!.Keys);
        Assert.True(document.Components?.SecuritySchemes is null or { Count: 0 }, "a node without tokens names no security scheme");
        Assert.All(operations, o => Assert.True(o.Security is null or { Count: 0 }));
    }

    [Fact]
    public async Task With_tokens_every_guarded_route_answers_401_and_every_change_403()
    {
        await using var secured = await SecuredNode.StartAsync();
        var document = await ReadDocumentAsync(secured.Client(SecuredNode.ReadToken));
        var scheme = Assert.IsType<OpenApiSecurityScheme>(document.Components!.SecuritySchemes!["bearer"]);
        Assert.Equal((SecuritySchemeType.Http, "bearer"), (scheme.Type!.Value, scheme.Scheme));
        var guarded = Operation(document, "/v1/service", "GET");
        Assert.Equal("bearer", Assert.Single(Assert.Single(guarded.Security!).Keys).Reference.Id);
        Assert.Contains("WWW-Authenticate", guarded.Responses!["401"].Headers!.Keys);
        Assert.Empty(Operation(document, "/v1/heartbeat", "GET").Security!);
        Assert.Empty(Operation(document, "/healthz", "GET").Security!);
        Assert.Contains("401", Operation(document, "/v1/service", "GET").Responses!.Keys);
        Assert.DoesNotContain("403", Operation(document, "/v1/service", "GET").Responses!.Keys);
        Assert.Contains("403", Operation(document, "/v1/service", "POST").Responses!.Keys);
        Assert.DoesNotContain("401", Operation(document, "/v1/heartbeat", "GET").Responses!.Keys);
        Assert.DoesNotContain("401", Operation(document, "/healthz", "GET").Responses!.Keys);
        foreach (var route in DescribedRoutes(secured.Node.Services))
            foreach (var answer in route.Answers)
                Assert.Contains(answer.StatusCode.ToString(CultureInfo.InvariantCulture), Operation(document, route.Path, route.Method).Responses!.Keys);
    }

    [Fact]
    public async Task The_document_s_generator_is_not_among_the_agent_s_services_and_answers_the_same_document_every_time()
    {
        // Made at the first ask from services of its own (an idle node does not load it): nothing of it is the agent's.
        Assert.Null(Node.Services.GetKeyedService<Microsoft.AspNetCore.OpenApi.IOpenApiDocumentProvider>("v1"));
        Assert.Null(Node.Services.GetService<Microsoft.AspNetCore.Mvc.ApiExplorer.IApiDescriptionGroupCollectionProvider>());

        using var first = await Node.Client.GetAsync("/openapi/v1.json");
        var second = await Node.Client.GetStringAsync("/openapi/v1.json");

        Assert.Equal("application/json; charset=utf-8", first.Content.Headers.ContentType!.ToString());
        Assert.Equal(await first.Content.ReadAsStringAsync(), second);
        Assert.Contains("\"/v1/heartbeat\"", second);
    }

    private const string ProblemJson = "application/problem+json";

    private sealed record Route(string Method, string Path, IReadOnlyList<IProducesResponseTypeMetadata> Answers, DescribedRequestBody? Body)
    {
        public override string ToString() => $"{Method} {Path}";
    }

    /// <summary>Every endpoint the app maps and does not exclude from the description, with the answers its metadata declares.</summary>
    private static List<Route> DescribedRoutes(IServiceProvider services) =>
        [.. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get]).Select(method =>
                new Route(method, "/" + e.RoutePattern.RawText!.Trim('/'),
                    e.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>(), e.Metadata.GetMetadata<DescribedRequestBody>())))];

    private static async Task<OpenApiDocument> ReadDocumentAsync(HttpClient client)
    {
        var json = await client.GetStringAsync("/openapi/v1.json");
        var read = OpenApiDocument.Parse(json, OpenApiConstants.Json, new OpenApiReaderSettings());
        Assert.Empty(read.Diagnostic?.Errors ?? []);
        return read.Document!;
    }

    private static OpenApiOperation Operation(OpenApiDocument document, string path, string method)
    {
        Assert.True(document.Paths.TryGetValue(path, out var item), $"{path} is not in the document");
        OpenApiOperation? operation = null;
        Assert.True(item.Operations?.TryGetValue(HttpMethod.Parse(method), out operation) == true, $"{method} {path} is not in the document");
        return operation!;
    }

    private static void AssertProblemDetails(IOpenApiSchema? schema, string where)
    {
        Assert.True(schema?.Properties is { } properties && new[] { "type", "title", "status", "detail" }.All(properties.ContainsKey),
            $"{where}: not the problem-details schema");
    }
}
