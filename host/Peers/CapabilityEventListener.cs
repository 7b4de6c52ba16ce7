using System.Threading.Channels;
using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Metrics;
using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Peers;

/// <summary>
/// The capability engine's event input, bound on [ZEROMQ] capability_engine_ipc_path and subscribed to everything. Each
/// event adds or removes capabilities in the store, in the order received; the events waiting in the queue together
/// are applied in one transaction. A malformed event is logged with its reason and dropped; nothing a publisher sends
/// stops the listener. Two transports feed the same queue:
/// <list type="bullet">
/// <item><c>tcp://</c>: a NetMQ SUB (<see cref="NetMqEventInput"/>), a CURVE server of the cluster key with
/// capability_publishers = any and a cluster_key, otherwise plain, as the original's capability engine expects (the
/// config rules keep it on loopback unless capability_publishers = any);</item>
/// <item><c>ipc://</c>: a Unix socket speaking ZMTP 3 (<see cref="ZmtpSubscriberListener"/>), where libzmq and pyzmq
/// publishers (the original's hardware layers and addcapability) connect. Local by nature: the socket file's permissions
/// decide who publishes, and CURVE is not offered there.</item>
/// </list>
/// </summary>
/// <remarks>
/// Lossless in the normal case: the transport only moves messages into a queue, so the socket buffers stay nearly
/// empty even while the store catches up. The limit: ZeroMQ pub/sub has no flow control, so once <see cref="QueueCapacity"/>
/// events wait to be applied and the socket buffers are full too, the publisher's PUB socket drops what it cannot send
/// (after its own send HWM).
/// </remarks>
internal sealed class CapabilityEventListener(
    MoteySettings settings,
    NodeCapabilities capabilities,
    ILogger<CapabilityEventListener> log,
    IMoteyMetrics? metrics = null) : BackgroundService
{
    private readonly IMoteyMetrics _metrics = metrics ?? NoMetrics.Instance;

    public const int QueueCapacity = CapabilityEventQueue.Capacity;

    /// <summary>
    /// The largest capability event taken, on either transport (a larger one costs its publisher the connection): 2 MiB
    /// holds some thirty thousand capabilities, and the agent holds at most <see cref="CapabilityEventQueue.ByteBudget"/>
    /// of waiting events however fast publishers send.
    /// </summary>
    public const long MaxEventBytes = 2 * 1024 * 1024;

    /// <summary>At most this many queued events are applied in one transaction.</summary>
    public const int MaxBatch = 1_000;

    private const string What = "capability event listener";

    // Several writers: each ipc publisher's connection loop writes here (the NetMQ poller is one more).
    private readonly CapabilityEventQueue _queue = new();
    private readonly CancellationTokenSource _stopping = new();
    private NetMqEventInput? _netMq;
    private ZmtpSubscriberListener? _ipc;
    private int _closed;

    public string Endpoint => settings.ZeroMq.CapabilityEngineEndpoint;

    /// <summary>Binds the endpoint; throws <see cref="PeerBindException"/> naming it when it cannot, so the agent does not start half deaf.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        string publishers;
        try
        {
            if (IpcEndpoint.Is(Endpoint))
            {
                _ipc = await ZmtpSubscriberListener.StartAsync(Endpoint, What, MaxEventBytes, EnqueueAsync, log);
                publishers = $"from processes of this host that may write its socket file {_ipc.Path} (mode 0660: this agent's user and group; "
                    + "ZMTP over a Unix socket)";
                if (settings.ZeroMq.RemotePublishers)
                {
                    log.LogInformation("[ZEROMQ] capability_publishers = any does not open {Endpoint} to other hosts: a Unix socket is local, "
                        + "its file's permissions decide who publishes, and CURVE is not offered on it", Endpoint);
                }
            }
            else
            {
                _netMq = NetMqEventInput.Start(settings.ZeroMq, Endpoint, What, MaxEventBytes, _queue, log, _stopping.Token);
                publishers = _netMq.Publishers;
            }
        }
        catch (PeerBindException e)
        {
            log.LogCritical("{Error}; set [ZEROMQ] capability_engine_ipc_path to a free endpoint on this host", e.Message);
            throw;
        }
        log.LogInformation("Listening for capability events on {Endpoint}, {Publishers}", Endpoint, publishers);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();  // frees the transports if they wait for room in the queue
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
            while (await _queue.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.TryRead(out var frames)) batch.Add(frames);
                await ApplyAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        var lost = batch.Count + _queue.Count;
        if (lost > 0) log.LogWarning("{Count} capability events were not applied: the agent stopped first", lost);
    }

    /// <summary>Called by each ipc publisher's connection loop: waits for room in the queue only when it is full.</summary>
    private async ValueTask EnqueueAsync(List<byte[]> frames, CancellationToken cancellationToken)
    {
        _stopping.Token.ThrowIfCancellationRequested();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        await _queue.WriteAsync(frames, either.Token);
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
            foreach (var lost in events) _metrics.CapabilityEvent(Command(lost), "failed");
            return;
        }
        var (added, removed, debug) = (0, 0, log.IsEnabled(LogLevel.Debug));
        for (var i = 0; i < events.Count; i++)
        {
            var list = events[i].Capabilities;
            if (events[i].IsAdd) added += changed[i];
            else removed += changed[i];
            _metrics.CapabilityEvent(Command(events[i]), changed[i] > 0 ? "applied" : "unchanged");
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
            _metrics.CapabilityEvent("unreadable", "dropped");
        }
        return capabilityEvent;
    }

    private static string Command(CapabilityEvent capabilityEvent) => capabilityEvent.Command;

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _stopping.Cancel();
        if (_netMq is not null) await _netMq.CloseAsync(Endpoint);
        if (_ipc is not null) await _ipc.DisposeAsync();
    }
}
