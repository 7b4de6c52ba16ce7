namespace Motey.Host.Api.OpenApi;

/// <summary>An example for the OpenAPI document: of the request body (<see cref="StatusCode"/> null) or of an answer.</summary>
internal sealed record OpenApiExample(int? StatusCode, string Json);

/// <summary>
/// The request body a handler reads itself (<see cref="RequestBody"/>), for the OpenAPI document only. Not
/// <c>.Accepts</c>: its metadata makes routing refuse other content types with a bare 415 before the handler can answer
/// its own problem details.
/// </summary>
internal sealed record DescribedRequestBody(Type Type, IReadOnlyList<string> ContentTypes);

/// <summary>A header the answer with <see cref="StatusCode"/> carries (Location, Motey-Unanswered-Engines), for the OpenAPI document.</summary>
internal sealed record DescribedResponseHeader(int StatusCode, string Name, string Description);

internal static class OpenApiMetadataExtensions
{
    /// <summary>The body the handler reads: of type <typeparamref name="T"/> in any of <paramref name="contentTypes"/>.</summary>
    public static RouteHandlerBuilder WithRequestBody<T>(this RouteHandlerBuilder builder, IReadOnlyList<string> contentTypes) =>
        builder.WithMetadata(new DescribedRequestBody(typeof(T), contentTypes));

    /// <summary>An example of the request body, as JSON (a YAML body's example is the same tree).</summary>
    public static TBuilder WithRequestExample<TBuilder>(this TBuilder builder, string json) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiExample(null, json));

    /// <summary>A header the answer with <paramref name="statusCode"/> carries.</summary>
    public static TBuilder WithResponseHeader<TBuilder>(this TBuilder builder, int statusCode, string name, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DescribedResponseHeader(statusCode, name, description));

    /// <summary>An example of the answer with <paramref name="statusCode"/>, as JSON.</summary>
    public static TBuilder WithResponseExample<TBuilder>(this TBuilder builder, int statusCode, string json) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiExample(statusCode, json));
}
