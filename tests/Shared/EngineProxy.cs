using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Motey.Tests.Shared;

/// <summary>
/// Stands between an agent and the Docker engine on a Unix socket of its own ([DOCKER] url = <see cref="Url"/>), so a
/// test can take "the engine" away without stopping the dockerd other tests use: <see cref="Stop"/> refuses new
/// connections and cuts open ones, as a stopped engine does. <see cref="Hold"/> freezes the one connection whose
/// request matches, at a moment the test chooses: before the engine sees the request, or after the engine acted on it
/// but before the agent hears the answer.
/// </summary>
internal sealed class EngineProxy : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<Socket> _open = [];
    private Socket? _listener;
    private CancellationTokenSource _stop = new();
    private (Regex Request, bool ForwardFirst, TaskCompletionSource Held)? _hold;

    public EngineProxy(string path) => Path = path;

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

    /// <summary>Refuses new connections and cuts the open ones, held ones included.</summary>
    public void Stop()
    {
        _stop.Cancel();
        _listener?.Dispose();
        _listener = null;
        lock (_gate)
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
        File.Delete(Path);
    }

    /// <summary>
    /// Arms a hold for the next request whose first bytes match <paramref name="request"/> (e.g. a container start).
    /// <paramref name="forwardFirst"/> false: the engine never sees it. True: the engine gets it and acts, the answer
    /// never reaches the agent. The task completes once a request is held; its connection stays frozen until <see cref="Stop"/>.
    /// </summary>
    public Task Hold(Regex request, bool forwardFirst)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _hold = (request, forwardFirst, held);
        return held.Task;
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
        lock (_gate) _open.AddRange([client, engine]);
        var frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await engine.ConnectAsync(new UnixDomainSocketEndPoint(LocalDocker.SocketPath), stop);
            await using var agentSide = new NetworkStream(client, ownsSocket: true);
            await using var engineSide = new NetworkStream(engine, ownsSocket: true);
            var replies = false;  // set once this connection is held after forwarding: the engine's answers are swallowed
            var toEngine = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await agentSide.ReadAsync(buffer, stop)) > 0)
                {
                    var hold = Claim(Encoding.ASCII.GetString(buffer, 0, read));
                    if (hold is { ForwardFirst: false })
                    {
                        hold.Value.Held.TrySetResult();
                        await frozen.Task.WaitAsync(stop);
                    }
                    // Before the engine has the request, so no byte of its answer slips through.
                    if (hold is { ForwardFirst: true }) Volatile.Write(ref replies, true);
                    await engineSide.WriteAsync(buffer.AsMemory(0, read), stop);
                    if (hold is { ForwardFirst: true })
                    {
                        hold.Value.Held.TrySetResult();
                        await frozen.Task.WaitAsync(stop);
                    }
                }
            }, stop);
            var toAgent = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await engineSide.ReadAsync(buffer, stop)) > 0)
                {
                    if (Volatile.Read(ref replies)) await frozen.Task.WaitAsync(stop);
                    await agentSide.WriteAsync(buffer.AsMemory(0, read), stop);
                }
            }, stop);
            await Task.WhenAny(toEngine, toAgent);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
        }
        finally
        {
            client.Dispose();
            engine.Dispose();
            lock (_gate) { _open.Remove(client); _open.Remove(engine); }
        }
    }

    /// <summary>The armed hold when <paramref name="request"/> matches it, disarmed so it holds one request only.</summary>
    private (Regex Request, bool ForwardFirst, TaskCompletionSource Held)? Claim(string request)
    {
        lock (_gate)
        {
            if (_hold is not { } hold || !hold.Request.IsMatch(request)) return null;
            _hold = null;
            return hold;
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
