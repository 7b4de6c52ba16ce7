using Motey.Host.Api.Parsing;

namespace Motey.Host.Api;

/// <summary>Problem-details answers (RFC 9457) that say what is wrong and where.</summary>
internal static class Problems
{
    public static IResult Invalid(string title, IReadOnlyList<InputError> errors) => Results.Problem(
        title: title,
        detail: string.Join("; ", errors.Select(e => $"{e.Where}: {e.Message}")),
        statusCode: StatusCodes.Status400BadRequest,
        extensions: new Dictionary<string, object?> { ["errors"] = errors.Select(e => new { where = e.Where, message = e.Message }).ToList() });

    public static IResult NotFound(string detail) =>
        Results.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static IResult UnsupportedMediaType(string? sent, string[] accepted, string? detail = null) => Results.Problem(
        title: "Unsupported content type",
        detail: detail ?? $"content type '{sent ?? "(none)"}' is not accepted here; send one of: {string.Join(", ", accepted)}",
        statusCode: StatusCodes.Status415UnsupportedMediaType);

    public static IResult TooLarge(long maxBytes) => Results.Problem(
        title: "Body too large",
        detail: $"the body is larger than {maxBytes} bytes ([WEBSERVER] max_body_bytes)",
        statusCode: StatusCodes.Status413PayloadTooLarge);
}
