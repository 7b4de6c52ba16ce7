using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Peers;

/// <summary>
/// Sends requests to other nodes. Each request gets a fresh REQ socket (Linger 0) that is closed when the
/// request ends, answered or not, so a socket that timed out is never reused. One poller thread owns every
/// socket (NetMQ sockets are not thread-safe); callers only wait on a task, so a thousand requests to dead
/// nodes cost no thread-pool thread while they wait out their timeouts.
/// </summary>
internal sealed class PeerRequester : IDisposable
{
    private readonly NetMQPoller _poller = new();
    private readonly HashSet<Exchange> _open = [];  // poller thread only
    private int _disposed;

    public PeerRequester() => _poller.RunAsync("motey-peer-requests", isBackgroundThread: true);

    /// <summary>
    /// Sends <paramref name="request"/> as one frame to <paramref name="endpoint"/> and returns the one-frame reply.
    /// Throws <see cref="TimeoutException"/> after <paramref name="timeout"/>, <see cref="OperationCanceledException"/>
    /// on cancellation, <see cref="PeerException"/> for a reply that is not one UTF-8 frame.
    /// </summary>
    public async Task<string> RequestAsync(string endpoint, string request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var exchange = new Exchange(endpoint, request);
        try
        {
            if (!Post(() => Open(exchange))) throw new ObjectDisposedException(nameof(PeerRequester), "the agent is stopping");
            return await exchange.Reply.Task.WaitAsync(timeout, cancellationToken);
        }
        finally
        {
            exchange.Reply.TrySetCanceled();  // no-op when answered; else an Open still queued skips the socket
            Post(() => Close(exchange));
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _poller.Dispose();  // stops the poller thread and waits for it; the sockets are ours to close now
        foreach (var exchange in _open)
        {
            exchange.Reply.TrySetException(new ObjectDisposedException(nameof(PeerRequester), "the agent is stopping"));
            exchange.Socket?.Dispose();
        }
        _open.Clear();
    }

    /// <summary>Runs <paramref name="action"/> on the poller thread; false when the requester is stopping (Dispose fails whatever is still open).</summary>
    private bool Post(Action action)
    {
        try
        {
            _poller.Run(action);
            return true;
        }
        catch (Exception e) when (e is ObjectDisposedException or NetMQException)
        {
            return false;
        }
    }

    private void Open(Exchange exchange)
    {
        if (exchange.Reply.Task.IsCompleted) return;  // timed out or cancelled before its turn came
        var socket = new RequestSocket();
        exchange.Socket = socket;
        _open.Add(exchange);
        try
        {
            socket.Options.Linger = TimeSpan.Zero;
            socket.ReceiveReady += (_, e) => OnReply(exchange, e.Socket);
            socket.Connect(exchange.Endpoint);
            _poller.Add(socket);
            // The pipe exists from Connect on, so the request is queued even before the peer answers the connection.
            if (!socket.TrySendFrame(exchange.Request))
                throw new PeerException($"could not queue the request to {exchange.Endpoint}");
        }
        catch (Exception e)
        {
            exchange.Reply.TrySetException(e is PeerException ? e : new PeerException($"cannot reach {exchange.Endpoint}: {e.Message}", e));
            Close(exchange);
        }
    }

    private void OnReply(Exchange exchange, NetMQSocket socket)
    {
        var frames = new List<byte[]>();
        if (!socket.TryReceiveMultipartBytes(ref frames)) return;
        var text = Frames.ReadText(frames, out var problem);
        if (text is not null) exchange.Reply.TrySetResult(text);
        else exchange.Reply.TrySetException(new PeerException($"the answer from {exchange.Endpoint} is malformed: {problem}"));
        Close(exchange);
    }

    private void Close(Exchange exchange)
    {
        if (exchange.Socket is not { } socket) return;
        exchange.Socket = null;
        _open.Remove(exchange);
        if (_poller.IsRunning && !socket.IsDisposed)
        {
            try
            {
                _poller.Remove(socket);
            }
            catch (ArgumentException)
            {
                // never added: Connect failed
            }
        }
        socket.Dispose();
    }

    private sealed class Exchange(string endpoint, string request)
    {
        public string Endpoint { get; } = endpoint;
        public string Request { get; } = request;
        public TaskCompletionSource<string> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public RequestSocket? Socket { get; set; }
    }
}
