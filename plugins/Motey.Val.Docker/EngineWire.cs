using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Motey.Val.Docker;

/// <summary>
/// GET requests to the engine as plain HTTP/1.0 over its socket: what an idle agent asks all the time (the health ping,
/// the list of this VAL's containers for the fence) without Docker.DotNet, Newtonsoft.Json and the HTTP client stack
/// behind them, which an idle node would otherwise load at start for these two questions alone (about 8 MiB resident).
/// HTTP/1.0, so the engine answers without chunks and closes the connection: the answer is what arrives until then.
/// </summary>
internal sealed class EngineWire(Uri endpoint)
{
    /// <summary>A larger answer is refused rather than read into memory: the list of thousands of containers is far below.</summary>
    internal const int MaxAnswerBytes = 64 * 1024 * 1024;

    /// <summary>Sends <c>GET <paramref name="pathAndQuery"/></c> and reads the whole answer; throws <see cref="SocketException"/> or <see cref="IOException"/> when the engine cannot be reached or answers nonsense.</summary>
    public async Task<EngineAnswer> GetAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        var unix = endpoint.Scheme == "unix";
        using var socket = unix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        EndPoint target = unix ? new UnixDomainSocketEndPoint(endpoint.LocalPath) : new DnsEndPoint(endpoint.Host, endpoint.Port);
        await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
        var request = Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.0\r\nHost: docker\r\nUser-Agent: Motey.Val.Docker\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        using var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        long? complete = null;  // the answer's whole length, once its headers have said it
        int read;
        while (answer.Length < complete.GetValueOrDefault(long.MaxValue)
            && (read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (answer.Length + read > MaxAnswerBytes)
                throw new IOException($"the engine's answer to GET {pathAndQuery} is larger than {MaxAnswerBytes} bytes");
            answer.Write(buffer, 0, read);
            // Something between this agent and the engine (a proxy in front of a tcp:// engine) may keep the connection
            // open after the answer: its Content-Length ends it instead of the close.
            complete ??= EngineAnswer.LengthOf(answer.GetBuffer().AsSpan(0, (int)answer.Length));
        }
        return EngineAnswer.Parse(answer.GetBuffer().AsSpan(0, (int)answer.Length));
    }
}

/// <summary>An engine's answer: its status code and its body as text.</summary>
internal sealed record EngineAnswer(int StatusCode, string Body)
{
    public bool IsSuccess => StatusCode is >= 200 and <= 299;

    /// <summary>
    /// The message Docker.DotNet gives a refusal (its <c>DockerApiException</c>'s), so a check that fails reads as it did
    /// when the client asked: <c>Docker API responded with status code=InternalServerError, response=...</c>.
    /// </summary>
    public string Refusal => $"Docker API responded with status code={(HttpStatusCode)StatusCode}, response={Body}";

    /// <summary>
    /// The whole length of an answer whose headers have arrived and name its <c>Content-Length</c>; null while the headers
    /// are incomplete or name none (then the answer ends with the connection). Throws <see cref="IOException"/> for a
    /// chunked answer, which an HTTP/1.0 request must not get (a proxy in front of the engine may send one).
    /// </summary>
    public static long? LengthOf(ReadOnlySpan<byte> raw)
    {
        var headersEnd = raw.IndexOf("\r\n\r\n"u8);
        if (headersEnd < 0) return null;
        foreach (var line in Encoding.ASCII.GetString(raw[..headersEnd]).Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                throw new IOException("the engine's answer is chunked, which an HTTP/1.0 request does not allow (a proxy in front of the engine?)");
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                return headersEnd + 4 + length;
        }
        return null;
    }

    /// <summary>Reads an HTTP/1.x answer: status line, headers (skipped), body. Throws <see cref="IOException"/> for anything else.</summary>
    public static EngineAnswer Parse(ReadOnlySpan<byte> raw)
    {
        var headersEnd = raw.IndexOf("\r\n\r\n"u8);
        if (headersEnd < 0)
            throw new IOException(raw.IsEmpty ? "the engine closed the connection without an answer" : "the engine's answer ended inside its headers");
        var lineEnd = raw.IndexOf("\r\n"u8);
        var statusLine = Encoding.ASCII.GetString(raw[..lineEnd]);
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 100 or > 999)
        {
            throw new IOException($"the engine's answer does not start with an HTTP status line: '{statusLine}'");
        }
        return new EngineAnswer(status, Encoding.UTF8.GetString(raw[(headersEnd + 4)..]));
    }
}
