using System.Threading.Channels;
using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Peers;

/// <summary>
/// The capability engine's event input: a SUB socket bound on [ZEROMQ] capability_engine_ipc_path,
/// subscribed to everything. Each event adds or removes capabilities in the store, in the order received; the events
/// waiting in the queue together are applied in one transaction. A malformed event is logged with its reason and
/// dropped; nothing a publisher sends stops the listener. With capability_publishers = any and a [ZEROMQ] cluster_key
/// the socket is a CURVE server of the cluster key: a publisher needs the key, and one without it is logged
/// (<see cref="HandshakeWatch"/>). Otherwise it is plain, as the original's capability engine expects, and the config
/// rules keep it on loopback unless capability_publishers = any.
/// </summary>
/// <remarks>
/// Lossless in the normal case: the socket's poller thread only moves messages into a queue, so the socket's
/// own buffer (<see cref="ReceiveHighWatermark"/>) stays nearly empty even while the store catches up. The limit:
/// ZeroMQ pub/sub has no flow control, so once <see cref="QueueCapacity"/> events wait to be applied and the
/// socket's buffer is full too, the publisher's PUB socket drops what it cannot send (after its own send HWM).
/// </remarks>
internal sealed class CapabilityEventListener(
    MoteySettings settings,
    NodeCapabilities capabilities,
    ILogger<CapabilityEventListener> log) : BackgroundService
{
    public const int ReceiveHighWatermark = 100_000;
    public const int QueueCapacity = 100_000;

    /// <summary>At most this many queued events are applied in one transaction.</summary>
    public const int MaxBatch = 1_000;

    private readonly Channel<List<byte[]>> _queue = Channel.CreateBounded<List<byte[]>>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stopping = new();
    private SubscriberSocket? _socket;
    private NetMQPoller? _poller;
    private HandshakeWatch? _watch;
    private int _closed;

    public string Endpoint => settings.ZeroMq.CapabilityEngineEndpoint;

    /// <summary>Binds the socket; throws <see cref="PeerBindException"/> naming the endpoint when it cannot, so the agent does not start half deaf.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var key = ClusterKey.ForCapabilityEvents(settings.ZeroMq);
        var curve = key is null ? null : new CurveServer(key, new HandshakeRefusals(log, TimeProvider.System));
        var socket = new SubscriberSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReceiveHighWatermark = ReceiveHighWatermark;
        socket.Options.MaxMsgSize = PeerSockets.MaxMessageBytes;
        socket.SubscribeToAnyTopic();
        curve?.Secure(socket);
        try
        {
            PeerSockets.Bind(socket, Endpoint, "capability event listener");
        }
        catch (PeerBindException e)
        {
            log.LogCritical("{Error}; set [ZEROMQ] capability_engine_ipc_path to a free endpoint on this host", e.Message);
            throw;
        }
        socket.ReceiveReady += OnReceiveReady;
        _socket = socket;
        // A bound SUB tells a connecting publisher its subscription only while something polls it: the poller does, always.
        _poller = new NetMQPoller { socket };
        if (curve is not null) _watch = new HandshakeWatch(socket, _poller, "capability event listener", Endpoint, curve.Refusals, TrustTrace.Delivery);
        _poller.RunAsync("motey-capability-events", isBackgroundThread: true);
        log.LogInformation("Listening for capability events on {Endpoint}, {Publishers}", Endpoint, key is not null
            ? $"from publishers that hold the {key} (CURVE)"
            : settings.ZeroMq.RemotePublishers ? "from any publisher (plain ZeroMQ)" : "from publishers on this host (plain ZeroMQ)");
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();  // frees the poller thread if it waits for room in the queue
        try
        {
            await base.StopAsync(cancellationToken);
        }
        finally
        {
            await CloseAsync();
        }
    }

    public override void Dispose()
    {
        CloseAsync().GetAwaiter().GetResult();
        _stopping.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<List<byte[]>>(MaxBatch);
        try
        {
            // Whatever waits when the first event arrives is applied with it, in one transaction: a burst costs one commit.
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var frames)) batch.Add(frames);
                await ApplyAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        var lost = batch.Count + _queue.Reader.Count;
        if (lost > 0) log.LogWarning("{Count} capability events were not applied: the agent stopped first", lost);
    }

    /// <summary>Runs on the poller thread: drains the socket into the queue, waiting for room only when it is full.</summary>
    private void OnReceiveReady(object? sender, NetMQSocketEventArgs e)
    {
        var frames = new List<byte[]>();
        while (!_stopping.IsCancellationRequested && e.Socket.TryReceiveMultipartBytes(ref frames))
        {
            _watch?.Delivered();
            if (!_queue.Writer.TryWrite(frames))
            {
                try
                {
                    _queue.Writer.WriteAsync(frames, _stopping.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            frames = [];
        }
    }

    /// <summary>
    /// Applies the valid events of <paramref name="batch"/> in order in one transaction; a malformed event is logged
    /// and skipped without touching its neighbours. When the store fails, the valid events of the batch are lost: logged, not thrown.
    /// </summary>
    internal async Task ApplyAsync(IReadOnlyList<List<byte[]>> batch, CancellationToken stoppingToken)
    {
        var events = new List<CapabilityEvent>(batch.Count);
        foreach (var frames in batch)
            if (Parse(frames) is { } capabilityEvent) events.Add(capabilityEvent);
        if (events.Count == 0) return;
        int[] changed;
        try
        {
            changed = await capabilities.ApplyAsync(events.Select(e => new CapabilityChange(e.IsAdd, e.Capabilities)).ToList(), stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The store failed, not the events: say so and keep listening.
            log.LogError(e, "Capability events lost: the store could not apply {Count} events: {Error}", events.Count, e.Message);
            return;
        }
        var (added, removed, debug) = (0, 0, log.IsEnabled(LogLevel.Debug));
        for (var i = 0; i < events.Count; i++)
        {
            var list = events[i].Capabilities;
            if (events[i].IsAdd) added += changed[i];
            else removed += changed[i];
            if (debug)
                log.LogDebug("Capability event {Command}: {Changed} of {Count} changed ({Capabilities})",
                    events[i].Command, changed[i], list.Count, string.Join(", ", list.Select(c => $"{c.Name} ({c.Type})")));
        }
        log.LogInformation("Capability events applied: {Events} events, {Added} capabilities added, {Removed} removed", events.Count, added, removed);
    }

    /// <summary>The event in <paramref name="frames"/>, or null after logging why it is dropped.</summary>
    private CapabilityEvent? Parse(List<byte[]> frames)
    {
        CapabilityEvent? capabilityEvent;
        string? problem;
        try
        {
            capabilityEvent = CapabilityEvent.Parse(frames, out problem);
        }
        catch (Exception e)
        {
            // Whatever a malformed event does to a parser, it must not stop the listener (and with it the node).
            (capabilityEvent, problem) = (null, $"unreadable: {e.Message}");
        }
        if (capabilityEvent is null)
        {
            var preview = frames.Count > 0 ? Frames.Preview(System.Text.Encoding.UTF8.GetString(frames[0])) : "";
            log.LogWarning("Dropped a capability event on {Endpoint}: {Problem}; event: {Event}", Endpoint, problem, preview);
        }
        return capabilityEvent;
    }

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _stopping.Cancel();
        _watch?.Dispose();  // before the poller: the watch's monitor is on it
        _poller?.Dispose();  // stops the poller thread and waits for it
        if (_socket is null) return;
        _socket.Dispose();
        await PeerSockets.WaitUntilReleasedAsync(Endpoint);
    }
}
