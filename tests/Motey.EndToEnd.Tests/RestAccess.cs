using System.Net.Http.Headers;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// How a test reaches an agent's REST API: plain HTTP (<see cref="Plain"/>), or HTTPS through handlers from
/// <paramref name="Handler"/> (each client gets a new one; they trust the agent's CA, and may present a client
/// certificate), with <paramref name="Token"/> sent as the bearer token of every request when not null.
/// </summary>
internal sealed record RestAccess(bool Https = false, string? Token = null, Func<HttpMessageHandler>? Handler = null)
{
    public static readonly RestAccess Plain = new();

    public Uri BaseAddress(string address, int port) => new($"{(Https ? "https" : "http")}://{address}:{port}");

    /// <summary>A client of the agent on address:port with this access's trust and <paramref name="token"/> (this access's token by default).</summary>
    public HttpClient Client(string address, int port, string? token) =>
        new(Handler?.Invoke() ?? new HttpClientHandler())
        {
            BaseAddress = BaseAddress(address, port),
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestHeaders = { Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token) },
        };

    public HttpClient Client(string address, int port) => Client(address, port, Token);

    public override string ToString() => $"{(Https ? "https" : "http")}{(Token is null ? "" : " with a token")}";  // never the token
}
