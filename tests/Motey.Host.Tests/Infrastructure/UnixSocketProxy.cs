using System.Net.Sockets;

namespace Motey.Host.Tests.Infrastructure;

/// <summary>
/// Forwards a Unix socket of its own to the Docker engine's socket. Stopping it makes the engine
/// unreachable for an agent configured with its path exactly as a stopped engine would (connections
/// refused, open ones cut), without stopping the engine that other tests use at the same time.
/// </summary>
internal sealed class UnixSocketProxy : IAsyncDisposable
{
    private readonly string _target;
    private Socket? _listener;
    private CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];

    public UnixSocketProxy(string path, string target = "/var/run/docker.sock")
    {
        Path = path;
        _target = target;
    }

    public string Path { get; }
    public string Url => $"unix://{Path}";

    public void Start()
    {
        File.Delete(Path);
        _stop = new CancellationTokenSource();
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(64);
        _ = AcceptAsync(_listener, _stop.Token);
    }

    public void Stop()
    {
        _stop.Cancel();
        _listener?.Dispose();
        _listener = null;
        lock (_open)
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
        File.Delete(Path);
    }

    private async Task AcceptAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = PipeAsync(client, stop);
        }
    }

    private async Task PipeAsync(Socket client, CancellationToken stop)
    {
        var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        lock (_open) _open.AddRange([client, engine]);
        try
        {
            await engine.ConnectAsync(new UnixDomainSocketEndPoint(_target), stop);
            await using var a = new NetworkStream(client, ownsSocket: true);
            await using var b = new NetworkStream(engine, ownsSocket: true);
            await Task.WhenAny(a.CopyToAsync(b, stop), b.CopyToAsync(a, stop));
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
        }
        finally
        {
            client.Dispose();
            engine.Dispose();
            lock (_open) { _open.Remove(client); _open.Remove(engine); }
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
