using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using Motey.Host.Configuration;
using Motey.Host.Security;

namespace Motey.Host.CommandLine.Client;

/// <summary>
/// A client command's connection to a node's REST API: NodeClient's HttpClient (the config's TLS pinning), the token
/// for each request (--token, else $MOTEY_TOKEN, else the config's tokens file: read for GET, admin for changes), and
/// the translation of failures into exit codes: no answer → 3, a refusal → 1 with its problem detail as a sentence
/// (with --json the node's body goes to stdout unchanged as well).
/// </summary>
internal sealed class NodeApi : IDisposable
{
    /// <summary>How long a request (not a stream) may take before the node counts as not answering.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly string? _token;
    private readonly TokenEntry? _readToken;
    private readonly TokenEntry? _adminToken;
    private readonly string _tokenSource;

    private NodeApi(HttpClient http, bool json, CliConsole console, string? token, TokenEntry? readToken, TokenEntry? adminToken, string tokenSource)
    {
        _http = http;
        Json = json;
        Console = console;
        _token = token;
        _readToken = readToken;
        _adminToken = adminToken;
        _tokenSource = tokenSource;
    }

    /// <summary>The node's address as messages name it: scheme, host and port.</summary>
    public string Url => _http.BaseAddress!.GetLeftPart(UriPartial.Authority);
    /// <summary>--json: print the node's answers, not tables.</summary>
    public bool Json { get; }
    public CliConsole Console { get; }

    public static NodeApi Connect(MoteySettings settings, string? url, string? token, bool json, CliConsole console)
    {
        Uri? address = null;
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out address) || address.Scheme is not ("http" or "https")))
            throw new CliException(CliException.BadUsage, $"--url '{url}' is not an http:// or https:// address");
        TokenEntry? read = null, admin = null;
        string source;
        if (!string.IsNullOrEmpty(token))
        {
            source = "the token given (--token or $" + ClientOptions.TokenVariable + ")";
        }
        else if (settings.WebServer.TokensFile is { } file)
        {
            try
            {
                read = NodeClient.Token(settings, ApiRole.Read);
                admin = NodeClient.Token(settings, ApiRole.Admin);
            }
            catch (ConfigException e)
            {
                throw new CliException(CliException.BadUsage, $"{e.Message}; or give a token with --token or ${ClientOptions.TokenVariable}");
            }
            source = $"the tokens file {file} ([WEBSERVER] tokens)";
        }
        else
        {
            source = "";
        }
        var http = NodeClient.Create(settings, Timeout.InfiniteTimeSpan, url: address);
        return new NodeApi(http, json, console, string.IsNullOrEmpty(token) ? null : token, read, admin, source);
    }

    public Task<HttpResponseMessage> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>
    /// Sends one request and returns its answer, whatever its status. <paramref name="stream"/>: return once the headers
    /// are in, and leave the body to the caller for as long as it lasts (events, logs).
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken,
        bool stream = false, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (TokenFor(method) is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            var response = await _http.SendAsync(request, stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead,
                timeout.Token);
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            return response;
        }
        catch (HttpRequestException e)
        {
            throw NoAnswer(e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(CliException.NoAnswer, $"the node at {Url} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The body of a successful answer; a <see cref="CliException"/> (exit 1) with the node's reason otherwise.</summary>
    public async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode) throw await RefusalAsync(response, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>GET <paramref name="path"/>: its body, or the refusal.</summary>
    public async Task<string> GetStringAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await GetAsync(path, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    /// <summary>
    /// What the node said when it refused, as a sentence; with --json its body is printed to stdout unchanged too.
    /// 401 and 403 say which token was sent and where it came from.
    /// </summary>
    public async Task<CliException> RefusalAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (Json && body.Length > 0) Console.Out.WriteLine(body);
        var method = response.RequestMessage?.Method ?? HttpMethod.Get;
        var sentence = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => _tokenSource.Length == 0
                ? $"the node at {Url} wants a token: give one with --token or ${ClientOptions.TokenVariable}, or name the tokens file in the config ([WEBSERVER] tokens)"
                : $"the node at {Url} refused the token from {_tokenSource} (401)",
            HttpStatusCode.Forbidden => $"the node at {Url} refused {method} {response.RequestMessage?.RequestUri?.AbsolutePath}: the token from "
                + $"{_tokenSource} does not allow it (403){(method == HttpMethod.Get ? "" : "; changes need an admin token")}",
            HttpStatusCode.NotFound when !body.TrimStart().StartsWith('{') =>
                $"the node at {Url} has no route {method} {response.RequestMessage?.RequestUri?.AbsolutePath} (404): is it an older Motey.NET?",
            _ => ProblemText.Sentence(response.StatusCode, response.ReasonPhrase, body),
        };
        return new CliException(CliException.Failed, sentence);
    }

    /// <summary>Writes a successful answer's body for --json.</summary>
    public void WriteJson(string body) => Console.Out.WriteLine(body);

    private string? TokenFor(HttpMethod method) => _token
        ?? (RestRoles.Needed(method.Method) == ApiRole.Read ? (_readToken ?? _adminToken) : (_adminToken ?? _readToken))?.Token;

    private CliException NoAnswer(HttpRequestException e)
    {
        var reason = e.InnerException is AuthenticationException
            ? $"{e.Message}: its TLS certificate is not trusted (neither the config's [WEBSERVER] tls_certificate nor one the system trusts)"
            : e.Message;
        return new CliException(CliException.NoAnswer, $"the node at {Url} does not answer: {reason}");
    }

    public void Dispose() => _http.Dispose();
}
