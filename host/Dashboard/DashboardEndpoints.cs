using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Motey.Host.Dashboard;

/// <summary>
/// The web dashboard: <c>GET /</c> is its page, <c>GET /assets/FILE</c> its scripts, styles and icons. Open without a
/// token (the files hold no data of the node: the page asks the API for everything, with the token the user gives it)
/// and left out of the OpenAPI document (they are not API). [WEBSERVER] dashboard = false maps neither.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>The routes that answer without a token besides the probes: the page and its assets.</summary>
    public static readonly IReadOnlyList<string> Routes = ["/", "/assets/{**file}"];

    /// <summary>
    /// What the page may do: only its own origin's scripts, styles, images and API (no inline script, no CDN, no framing),
    /// so a service name or log line that looks like HTML can never run.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static void Map(IEndpointRouteBuilder app)
    {
        var files = new DashboardFiles();
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/", methods, (HttpContext http) => Serve(http, files, "index.html"))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapMethods("/assets/{**file}", methods, (HttpContext http, string file) => Serve(http, files, "assets/" + file))
            .AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext http, DashboardFiles files, string path)
    {
        if (files.Find(path) is not { } file)
            return Api.Problems.NotFound($"the dashboard has no file '{path}'");
        var response = http.Response;
        var headers = response.Headers;
        // Revalidated on every load (a cheap 304): an upgraded agent's page is never mixed with the old one's scripts.
        headers.CacheControl = "no-cache";
        headers.ETag = file.ETag;
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        if (http.Request.Headers.IfNoneMatch is { Count: > 0 } match && Matches(match, file.ETag))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        var body = file.Content;
        if (file.Gzip is not null && AcceptsGzip(http.Request.Headers.AcceptEncoding))
        {
            headers.ContentEncoding = "gzip";
            body = file.Gzip;
        }
        return HttpMethods.IsHead(http.Request.Method)
            ? new HeadResult(file.ContentType, body.Length)
            : Results.Bytes(body, file.ContentType);
    }

    private static bool Matches(StringValues ifNoneMatch, string etag) =>
        ifNoneMatch.Any(value => value is not null && value.Split(',').Any(tag => tag.Trim() is var t && (t == "*" || t == etag || t == "W/" + etag)));

    /// <summary>Whether Accept-Encoding lists gzip (or *) with a weight above zero.</summary>
    private static bool AcceptsGzip(StringValues acceptEncoding) =>
        StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var codings)
        && codings.Any(c => (c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) || c.Value == "*") && (c.Quality ?? 1) > 0);

    /// <summary>A HEAD answer: the headers a GET would have, no body.</summary>
    private sealed class HeadResult(string contentType, long length) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = contentType;
            httpContext.Response.ContentLength = length;
            return Task.CompletedTask;
        }
    }
}
