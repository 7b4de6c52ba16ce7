using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Peers;

/// <summary>One request as a replier sees it: its text, or why it has none (several frames, not UTF-8).</summary>
internal sealed record PeerRequest(string? Text, string? Problem)
{
    public static PeerRequest From(IReadOnlyList<byte[]> frames)
    {
        var text = Frames.ReadText(frames, out var problem);
        return new PeerRequest(text, problem);
    }
}

/// <summary>
/// One request/reply endpoint of this node. On the wire it is what the original's REP socket was: a REQ peer
/// sends one string frame and gets one back. Inside it is a ROUTER socket, so a slow request (a deploy that pulls
/// an image) never holds up the next one: each request is handled on the thread pool and its reply is sent from
/// the socket's own poller thread, the only thread that touches the socket. Every request gets a reply.
/// With a <see cref="CurveServer"/> the socket is a CURVE server of the cluster key: a peer without the key never gets
/// a request through (the handshake fails, so there is nothing to answer) and is told to the log by a <see cref="HandshakeWatch"/>.
/// </summary>
internal sealed class Replier(
    string name,
    string endpoint,
    Func<PeerRequest, CancellationToken, Task<string>> handle,
    Func<string, string> failureReply,
    ILogger log,
    CurveServer? curve = null) : IDisposable
{
    /// <summary>Requests handled at once; beyond this a request is answered at once with the failure reply.</summary>
    public const int MaxInFlight = 256;

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private RouterSocket? _socket;
    private NetMQPoller? _poller;
    private HandshakeWatch? _watch;
    private int _inFlight;
    private int _closed;

    /// <summary>Binds and starts answering; throws <see cref="PeerBindException"/> naming the endpoint when it cannot bind.</summary>
    public void Start()
    {
        var socket = new RouterSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.MaxMsgSize = PeerSockets.MaxMessageBytes;
        if (curve is not null)
        {
            curve.Secure(socket);
            socket.Options.DisconnectMessage = HandshakeWatch.DisconnectMarker;
        }
        PeerSockets.Bind(socket, endpoint, name);
        socket.ReceiveReady += OnReceiveReady;
        _socket = socket;
        _poller = new NetMQPoller { socket };
        if (curve is not null) _watch = new HandshakeWatch(socket, _poller, name, endpoint, curve.Refusals, TrustTrace.DisconnectMessage);
        _poller.RunAsync($"motey-{name.Replace(' ', '-')}", isBackgroundThread: true);
    }

    /// <summary>Cancels the requests in progress, gives them a moment to answer, then closes the socket and frees the port.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _stopping.Cancel();
        var deadline = DateTime.UtcNow + StopGrace;
        while (Volatile.Read(ref _inFlight) > 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        _watch?.Dispose();  // before the poller: the watch's monitor is on it
        _poller?.Dispose();
        if (_socket is null) return;
        _socket.Dispose();
        await PeerSockets.WaitUntilReleasedAsync(endpoint);
    }

    public void Dispose()
    {
        StopAsync().GetAwaiter().GetResult();
        _stopping.Dispose();
    }

    /// <summary>Runs on the poller thread: takes every waiting request and hands each to the thread pool.</summary>
    private void OnReceiveReady(object? sender, NetMQSocketEventArgs e)
    {
        NetMQMessage? message = null;
        while (e.Socket.TryReceiveMultipartMessage(ref message))
        {
            if (_watch is not null && HandshakeWatch.IsDisconnect(message))
            {
                _watch.TrustedClose();
                message = null;
                continue;
            }
            var (envelope, body) = Split(message);
            message = null;
            if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                log.LogWarning("The {Replier} refused a request: {Count} requests are already in progress", name, MaxInFlight);
                Send(envelope, failureReply($"busy: {MaxInFlight} requests are already in progress"));
                continue;
            }
            var request = PeerRequest.From(body);
            // Task.Run: the poller thread's synchronization context must not pick up the handler's continuations.
            _ = Task.Run(() => AnswerAsync(envelope, request));
        }
    }

    private async Task AnswerAsync(List<byte[]> envelope, PeerRequest request)
    {
        string reply;
        try
        {
            reply = await handle(request, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            reply = failureReply("the node is stopping");
        }
        catch (Exception e)
        {
            // The handlers answer what they expect; this is the last guard that keeps the replier answering.
            log.LogError(e, "The {Replier} failed on a request ({Request}): {Error}", name, Frames.Preview(request.Text ?? request.Problem ?? ""), e.Message);
            reply = failureReply(e.Message);
        }
        try
        {
            Send(envelope, reply);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Send(List<byte[]> envelope, string reply)
    {
        var message = new NetMQMessage(envelope.Count + 1);
        foreach (var frame in envelope) message.Append(frame);
        message.Append(Frames.Encode(reply));
        try
        {
            _poller!.Run(() =>
            {
                // ROUTER never blocks: a reply to a peer that has gone (it timed out) is dropped.
                if (_socket is { IsDisposed: false } socket && !socket.TrySendMultipartMessage(message))
                    log.LogDebug("The {Replier} could not send a reply: the peer's queue is full", name);
            });
        }
        catch (Exception e) when (e is ObjectDisposedException or NetMQException)
        {
            // Stopped (the poller is gone or NetMQ is terminating): the peer's request times out, as with a dead node.
        }
    }

    /// <summary>
    /// A REQ peer's message arrives as [identity][empty][body]: the envelope is everything up to the empty
    /// delimiter and goes back in front of the reply. A peer that sends no delimiter gets its identity back.
    /// </summary>
    private static (List<byte[]> Envelope, List<byte[]> Body) Split(NetMQMessage message)
    {
        var frames = message.Select(f => f.ToByteArray()).ToList();
        var delimiter = frames.FindIndex(1, f => f.Length == 0);
        var envelopeLength = delimiter >= 0 ? delimiter + 1 : 1;
        return (frames[..envelopeLength], frames[envelopeLength..]);
    }
}
