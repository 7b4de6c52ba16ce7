using System.Text.Json.Serialization;
using Motey.Host.Parsing;

namespace Motey.Host.Api;

/// <summary>Problem-details answers (RFC 9457) that say what is wrong and where.</summary>
internal static class Problems
{
    /// <summary>At most this many errors are listed: a body full of mistakes must not get an answer larger than itself.</summary>
    public const int MaxListedErrors = 20;

    public static IResult Invalid(string title, IReadOnlyList<InputError> errors)
    {
        var listed = errors.Take(MaxListedErrors).ToList();
        var more = errors.Count - listed.Count;
        var detail = string.Join("; ", listed.Select(e => $"{e.Where}: {Shorten(e.Message)}")) + (more > 0 ? $"; ... and {more} more" : "");
        return Results.Problem(
            title: title,
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = listed.Select(e => new ListedError(Shorten(e.Where), Shorten(e.Message), e.Line, e.Column)).ToList(),
                ["error_count"] = errors.Count,
            });
    }

    /// <summary>One entry of <c>errors</c>: line and column (1-based) only when the position is known.</summary>
    private sealed record ListedError(
        [property: JsonPropertyName("where")] string Where,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("line"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Line,
        [property: JsonPropertyName("column"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Column);

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";

    public static IResult NotFound(string detail) =>
        Results.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static IResult BadRequest(string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>409: what was asked of an image needs its instance, and it has none now; says the image's state.</summary>
    public static IResult NoInstance(string detail, Motey.Abstractions.ImageState state) => Results.Problem(
        title: "No instance", detail: detail, statusCode: StatusCodes.Status409Conflict,
        extensions: new Dictionary<string, object?> { ["state"] = (int)state, ["state_name"] = Motey.Host.Core.Events.EventTypes.StateName(state) });

    /// <summary>501: the engine (or the node) does not provide this.</summary>
    public static IResult NotProvided(string detail) =>
        Results.Problem(title: "Not provided", detail: detail, statusCode: StatusCodes.Status501NotImplemented);

    /// <summary>502: the node or engine that would answer failed, did not answer, or cannot answer this.</summary>
    public static IResult BadGateway(string detail) =>
        Results.Problem(title: "Bad gateway", detail: detail, statusCode: StatusCodes.Status502BadGateway);

    /// <summary>504: the node that would answer did not answer in time.</summary>
    public static IResult GatewayTimeout(string detail) =>
        Results.Problem(title: "Gateway timeout", detail: detail, statusCode: StatusCodes.Status504GatewayTimeout);

    public static IResult Conflict(string detail, string existingId) => Results.Problem(
        title: "Conflict", detail: detail, statusCode: StatusCodes.Status409Conflict,
        extensions: new Dictionary<string, object?> { ["existing_id"] = existingId });

    public static IResult UnsupportedMediaType(string? sent, string[] accepted, string? detail = null) => Results.Problem(
        title: "Unsupported content type",
        detail: detail ?? $"content type '{sent ?? "(none)"}' is not accepted here; send one of: {string.Join(", ", accepted)}",
        statusCode: StatusCodes.Status415UnsupportedMediaType);

    public static IResult TooLarge(long maxBytes) => Results.Problem(
        title: "Body too large",
        detail: $"the body is larger than {maxBytes} bytes ([WEBSERVER] max_body_bytes)",
        statusCode: StatusCodes.Status413PayloadTooLarge);
}
