namespace Motey.Host.Api;

/// <summary>JSON serialized ahead of time, answered as <see cref="Results.Json"/> answers: 200, application/json; charset=utf-8.</summary>
internal sealed class SerializedJsonResult(ReadOnlyMemory<byte> json) : IResult
{
    public const string ContentType = "application/json; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.ContentLength = json.Length;
        await response.Body.WriteAsync(json, httpContext.RequestAborted);
    }
}
