using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Motey.Tests.Shared;

/// <summary>
/// A stand-in for the Docker engine on a Unix socket of its own ([DOCKER] url = <see cref="Url"/>) that answers each
/// request with the raw bytes a test gave for its path (the longest matching prefix; 404 otherwise), then closes the
/// connection, and keeps the request lines it saw. For what the real engine will not do on demand: refuse, or talk nonsense.
/// </summary>
internal sealed class CannedEngine : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, string> _answers = new(StringComparer.Ordinal);

    public CannedEngine(string path)
    {
        Path = path;
        File.Delete(path);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _ = AcceptAsync();
    }

    public string Path { get; }
    public string Url => $"unix://{Path}";

    /// <summary>When true, the connection stays open after an answer until the client closes it (as a proxy may keep it).</summary>
    public bool KeepOpen { get; set; }

    /// <summary>The request lines received so far (<c>GET /_ping HTTP/1.0</c>), oldest first.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Answers requests whose path starts with <paramref name="pathPrefix"/> with <paramref name="raw"/>, exactly.</summary>
    public void Answer(string pathPrefix, string raw) => _answers[pathPrefix] = raw;

    /// <summary>An HTTP/1.0 answer with the given status and body, as the engine writes one.</summary>
    public static string Http(int status, string reason, string body, string contentType = "application/json") =>
        $"HTTP/1.0 {status} {reason}\r\nApi-Version: 1.41\r\nContent-Type: {contentType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        File.Delete(Path);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (read == 0) return;
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                var line = request.ToString()[..request.ToString().IndexOf("\r\n", StringComparison.Ordinal)];
                Requests.Enqueue(line);
                var path = line.Split(' ')[1];
                var answer = _answers.Where(a => path.StartsWith(a.Key, StringComparison.Ordinal)).MaxBy(a => a.Key.Length).Value
                    ?? Http(404, "Not Found", "{\"message\":\"page not found\"}");
                await client.SendAsync(Encoding.UTF8.GetBytes(answer), SocketFlags.None, _stop.Token);
                if (KeepOpen)
                {
                    while (await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                    {
                    }
                }
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // The test ended, or the client went away: nothing to answer.
            }
        }
    }
}
