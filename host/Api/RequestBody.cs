using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Motey.Host.Parsing;

namespace Motey.Host.Api;

/// <summary>
/// Reads a request body as text, refusing wrong content types, oversized bodies and bytes that are not UTF-8.
/// A refused body is left unread: Kestrel, whose limit is <see cref="DrainFactor"/> × max_body_bytes, reads and
/// discards it after the answer (for at most 5 s), so a client that sends it all before reading still gets the answer
/// and keeps its connection. A body declared longer than that is not read at all and the connection is closed.
/// </summary>
internal static class RequestBody
{
    /// <summary>How many times max_body_bytes Kestrel reads and discards of a refused body before it closes the connection.</summary>
    public const int DrainFactor = 16;

    public static readonly string[] Yaml = ["application/x-yaml", "application/yaml", "text/yaml", "text/x-yaml"];
    public static readonly string[] Json = ["application/json"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The body text, or the problem to answer with (415, 413 or 400).</summary>
    public static async Task<(string? Text, IResult? Problem)> ReadAsync(HttpRequest request, string[] mediaTypes, long maxBytes, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !mediaTypes.Contains(contentType.MediaType.Value, StringComparer.OrdinalIgnoreCase))
        {
            return (null, Problems.UnsupportedMediaType(request.ContentType, mediaTypes));
        }
        if (contentType.Parameters.Count(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)) > 1)
            return (null, Problems.UnsupportedMediaType(request.ContentType, mediaTypes, $"content type '{request.ContentType}' names more than one charset"));
        if (contentType.Charset.HasValue && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            return (null, Problems.UnsupportedMediaType(request.ContentType, mediaTypes, $"content type '{request.ContentType}': charset '{contentType.Charset}' is not supported; send UTF-8"));
        if (request.ContentLength > maxBytes)
        {
            // Kestrel will not drain a body it knows to be over its limit: say that the connection ends here.
            if (request.ContentLength > request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize)
                request.HttpContext.Response.Headers.Connection = "close";
            return (null, Problems.TooLarge(maxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes) return (null, Problems.TooLarge(maxBytes));
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body (no Content-Length) that Kestrel cut at its own limit.
            return (null, Problems.TooLarge(maxBytes));
        }
        try
        {
            var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            if (bytes.StartsWith(Encoding.UTF8.Preamble)) bytes = bytes[Encoding.UTF8.Preamble.Length..];
            return (StrictUtf8.GetString(bytes), null);
        }
        catch (DecoderFallbackException e)
        {
            return (null, Problems.Invalid("The body is not valid UTF-8",
                [new InputError(e.Index >= 0 ? $"byte {e.Index}" : "body", "invalid UTF-8 byte sequence")]));
        }
    }
}
