using System.Threading.Channels;
using Motey.Host.Configuration;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Peers;

/// <summary>
/// The capability event listener's socket on a <c>tcp://</c> endpoint: a NetMQ SUB bound there and subscribed to
/// everything, whose poller thread only moves messages into the listener's queue. With capability_publishers = any and a
/// [ZEROMQ] cluster_key it is a CURVE server of the cluster key: a publisher needs the key, and one without it is logged
/// (<see cref="HandshakeWatch"/>).
/// </summary>
internal sealed class NetMqEventInput
{
    public const int ReceiveHighWatermark = 100_000;

    private readonly CapabilityEventQueue _queue;
    private readonly CancellationToken _stopping;
    private readonly SubscriberSocket _socket;
    private readonly NetMQPoller _poller;
    private readonly HandshakeWatch? _watch;

    private NetMqEventInput(SubscriberSocket socket, NetMQPoller poller, HandshakeWatch? watch, CapabilityEventQueue queue,
        string publishers, CancellationToken stopping)
    {
        _socket = socket;
        _poller = poller;
        _watch = watch;
        _queue = queue;
        _stopping = stopping;
        Publishers = publishers;
    }

    /// <summary>Who may publish, for the log line that says the listener runs.</summary>
    public string Publishers { get; }

    /// <summary>Binds <paramref name="endpoint"/> as the <paramref name="what"/>; throws <see cref="PeerBindException"/> naming it when it cannot.</summary>
    public static NetMqEventInput Start(ZeroMqSettings settings, string endpoint, string what, long maxMessageBytes, CapabilityEventQueue queue,
        ILogger log, CancellationToken stopping)
    {
        var key = ClusterKey.ForCapabilityEvents(settings);
        var curve = key is null ? null : new CurveServer(key, new HandshakeRefusals(log, TimeProvider.System));
        var socket = new SubscriberSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReceiveHighWatermark = ReceiveHighWatermark;
        socket.Options.MaxMsgSize = maxMessageBytes;
        socket.SubscribeToAnyTopic();
        curve?.Secure(socket);
        PeerSockets.Bind(socket, endpoint, what);
        // A bound SUB tells a connecting publisher its subscription only while something polls it: the poller does, always.
        var poller = new NetMQPoller { socket };
        var watch = curve is null ? null : new HandshakeWatch(socket, poller, what, endpoint, curve.Refusals, TrustTrace.Delivery);
        var input = new NetMqEventInput(socket, poller, watch, queue, key is not null
            ? $"from publishers that hold the {key} (CURVE)"
            : settings.RemotePublishers ? "from any publisher (plain ZeroMQ)" : "from publishers on this host (plain ZeroMQ)", stopping);
        socket.ReceiveReady += input.OnReceiveReady;
        poller.RunAsync("motey-capability-events", isBackgroundThread: true);
        return input;
    }

    /// <summary>Stops the poller thread and closes the socket; the endpoint is free again when this returns.</summary>
    public async Task CloseAsync(string endpoint)
    {
        _watch?.Dispose();  // before the poller: the watch's monitor is on it
        _poller.Dispose();  // stops the poller thread and waits for it
        _socket.Dispose();
        await PeerSockets.WaitUntilReleasedAsync(endpoint);
    }

    /// <summary>Runs on the poller thread: drains the socket into the queue, waiting for room only when it is full.</summary>
    private void OnReceiveReady(object? sender, NetMQSocketEventArgs e)
    {
        var frames = new List<byte[]>();
        while (!_stopping.IsCancellationRequested && e.Socket.TryReceiveMultipartBytes(ref frames))
        {
            _watch?.Delivered();
            try
            {
                var written = _queue.WriteAsync(frames, _stopping);
                if (!written.IsCompletedSuccessfully) written.AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            frames = [];
        }
    }
}
