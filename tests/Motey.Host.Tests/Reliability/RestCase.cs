using System.Net;
using System.Text;

namespace Motey.Host.Tests.Reliability;

/// <summary>
/// One bad HTTP request and how the agent must refuse it: the status, and a fragment the problem's
/// <c>detail</c> must contain (what is wrong and where). <see cref="Body"/> is sent as raw bytes and
/// <see cref="ContentType"/> as a raw header, so nothing on the client side cleans them up.
/// </summary>
internal sealed record RestCase(
    string Name,
    HttpMethod Method,
    string Path,
    byte[]? Body,
    string? ContentType,
    HttpStatusCode Status,
    string Fragment,
    bool Chunked = false,
    bool ExpectContinue = false)
{
    public const string Yaml = "application/x-yaml";
    public const string Json = "application/json";

    public override string ToString() => Name;

    public static RestCase PostYaml(string name, string yaml, string fragment, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        new(name, HttpMethod.Post, "/v1/service", Encoding.UTF8.GetBytes(yaml), Yaml, status, fragment);

    public static RestCase PostBytes(string name, byte[] body, string fragment) =>
        new(name, HttpMethod.Post, "/v1/service", body, Yaml, HttpStatusCode.BadRequest, fragment);

    public static RestCase DeleteYaml(string name, string yaml, string fragment, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        new(name, HttpMethod.Delete, "/v1/service", Encoding.UTF8.GetBytes(yaml), Yaml, status, fragment);

    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(Method, Path);
        // A client about to send megabytes asks first, so it gets the refusal instead of a connection closed mid-body.
        if (ExpectContinue) request.Headers.ExpectContinue = true;
        if (Body is null) return request;
        HttpContent content = Chunked ? new UnknownLengthContent(Body) : new ByteArrayContent(Body);
        if (ContentType is not null && !content.Headers.TryAddWithoutValidation("Content-Type", ContentType))
            throw new InvalidOperationException($"case {Name}: the client cannot send Content-Type '{ContentType}'");
        request.Content = content;
        return request;
    }

    /// <summary>A body without Content-Length, so it goes out chunked and the server learns its size only by reading it.</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
