using System.Threading.Channels;
using Motey.Host.Configuration;
using Motey.Host.Storage;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Peers;

/// <summary>
/// The capability engine's event input: a SUB socket bound on [ZEROMQ] capability_engine_ipc_path,
/// subscribed to everything. Each event adds or removes capabilities in the store, in the order received.
/// A malformed event is logged with its reason and dropped; nothing a publisher sends stops the listener.
/// </summary>
/// <remarks>
/// Lossless in the normal case: the socket's poller thread only moves messages into a queue, so the socket's
/// own buffer (<see cref="ReceiveHighWatermark"/>) stays nearly empty even while the store catches up. The limit:
/// ZeroMQ pub/sub has no flow control, so once <see cref="QueueCapacity"/> events wait to be applied and the
/// socket's buffer is full too, the publisher's PUB socket drops what it cannot send (after its own send HWM).
/// </remarks>
internal sealed class CapabilityEventListener(
    MoteySettings settings,
    CapabilityRepository capabilities,
    ILogger<CapabilityEventListener> log) : BackgroundService
{
    public const int ReceiveHighWatermark = 100_000;
    public const int QueueCapacity = 100_000;

    private readonly Channel<List<byte[]>> _queue = Channel.CreateBounded<List<byte[]>>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stopping = new();
    private SubscriberSocket? _socket;
    private NetMQPoller? _poller;
    private int _closed;

    public string Endpoint => settings.ZeroMq.CapabilityEngineEndpoint;

    /// <summary>Binds the socket; throws <see cref="PeerBindException"/> naming the endpoint when it cannot, so the agent does not start half deaf.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var socket = new SubscriberSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReceiveHighWatermark = ReceiveHighWatermark;
        socket.Options.MaxMsgSize = PeerSockets.MaxMessageBytes;
        socket.SubscribeToAnyTopic();
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
        _poller.RunAsync("motey-capability-events", isBackgroundThread: true);
        log.LogInformation("Listening for capability events on {Endpoint}", Endpoint);
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
        try
        {
            await foreach (var frames in _queue.Reader.ReadAllAsync(stoppingToken))
                await ApplyAsync(frames, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        if (_queue.Reader.Count > 0)
            log.LogWarning("{Count} capability events were not applied: the agent stopped first", _queue.Reader.Count);
    }

    /// <summary>Runs on the poller thread: drains the socket into the queue, waiting for room only when it is full.</summary>
    private void OnReceiveReady(object? sender, NetMQSocketEventArgs e)
    {
        var frames = new List<byte[]>();
        while (!_stopping.IsCancellationRequested && e.Socket.TryReceiveMultipartBytes(ref frames))
        {
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

    private async Task ApplyAsync(List<byte[]> frames, CancellationToken stoppingToken)
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
            return;
        }
        try
        {
            var list = capabilityEvent.Capabilities;
            var changed = capabilityEvent.IsAdd
                ? await capabilities.AddAsync(list, stoppingToken)
                : await capabilities.RemoveAsync(list, stoppingToken);
            log.LogInformation("Capability event {Command}: {Changed} of {Count} changed ({Capabilities})",
                capabilityEvent.Command, changed, list.Count, string.Join(", ", list.Select(c => $"{c.Name} ({c.Type})")));
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The store failed, not the event: say so and keep listening.
            log.LogError(e, "Capability event {Command} could not be applied: {Error}", capabilityEvent.Command, e.Message);
        }
    }

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _stopping.Cancel();
        _poller?.Dispose();  // stops the poller thread and waits for it
        if (_socket is null) return;
        _socket.Dispose();
        await PeerSockets.WaitUntilReleasedAsync(Endpoint);
    }
}
