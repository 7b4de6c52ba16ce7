using System.Threading.Channels;

namespace Motey.Host.Core.Events;

/// <summary>One event as the stream sends it: its id (from 1 per agent start), its type, its data as one line of JSON.</summary>
/// <param name="ServiceId">The service a service or image event is about; null for the other types (for ?service=).</param>
public sealed record MoteyEvent(long Id, string Type, string? ServiceId, string Data);

/// <summary>
/// The agent's live events: every change is numbered and kept in a ring of the last <see cref="BufferSize"/>, and handed
/// to each subscriber's bounded queue. Publishing never waits and never throws into the publisher: a subscriber whose
/// queue is full is dropped (its stream says reset and closes), never waited for.
/// </summary>
public sealed class EventHub
{
    /// <summary>Events kept for replay (Last-Event-ID), and events one subscriber may have waiting.</summary>
    public const int BufferSize = 1024;

    private readonly Lock _gate = new();
    private readonly MoteyEvent?[] _ring = new MoteyEvent?[BufferSize];
    private readonly List<EventSubscription> _subscribers = [];
    private long _lastId;

    /// <summary>The id of the last event published (0 before the first).</summary>
    public long LastId
    {
        get { lock (_gate) return _lastId; }
    }

    /// <summary>Open subscriptions of clients (the event stream's readers); the agent's own followers are not counted.</summary>
    public int SubscriberCount
    {
        get { lock (_gate) return _subscribers.Count(s => !s.Internal); }
    }

    /// <summary>Numbers the event, keeps it, and hands it to every subscriber that wants it; never blocks, never throws.</summary>
    public void Publish(string type, string? serviceId, string data)
    {
        lock (_gate)
        {
            var published = new MoteyEvent(++_lastId, type, serviceId, data);
            _ring[published.Id % BufferSize] = published;
            for (var i = _subscribers.Count - 1; i >= 0; i--)
            {
                var subscriber = _subscribers[i];
                if (!subscriber.Wants(published)) continue;
                if (subscriber.TryQueue(published)) continue;
                _subscribers.RemoveAt(i);
                subscriber.Overflow();
            }
        }
    }

    /// <summary>
    /// Registers a subscriber, atomically with what it must see first: the kept events after <paramref name="after"/>
    /// (none when null), preceded by a reset when some of them are no longer kept, or when the id is one this run never
    /// gave (the agent restarted). From the moment this returns the subscriber misses nothing.
    /// </summary>
    /// <param name="internalUse">True for a part of the agent that follows events (not counted in <see cref="SubscriberCount"/>).</param>
    public EventSubscription Subscribe(long? after, Func<MoteyEvent, bool> filter, bool internalUse = false)
    {
        lock (_gate)
        {
            var oldest = Math.Max(1, _lastId - BufferSize + 1);
            string? reset = null;
            var from = _lastId + 1;
            if (after is { } asked)
            {
                if (asked > _lastId)
                    reset = $"event {asked} was not given by this run of the agent (the last is {_lastId}): it restarted; read the state again";
                else if (asked + 1 < oldest)
                    reset = $"events after {asked} are no longer kept (the oldest kept is {oldest}); read the state again";
                from = reset is null ? asked + 1 : oldest;
            }
            var replay = new List<MoteyEvent>();
            for (var id = from; id <= _lastId; id++)
                if (_ring[id % BufferSize] is { } kept && filter(kept)) replay.Add(kept);
            var subscription = new EventSubscription(this, filter, reset, replay) { Internal = internalUse };
            _subscribers.Add(subscription);
            return subscription;
        }
    }

    internal void Unsubscribe(EventSubscription subscription)
    {
        lock (_gate) _subscribers.Remove(subscription);
    }
}

/// <summary>
/// One subscriber: what it must see first (a reset, the replay), then a bounded queue of live events. When the queue
/// overflows the subscription ends: <see cref="Overflowed"/> is set and <see cref="Dropped"/> is cancelled.
/// </summary>
public sealed class EventSubscription : IDisposable
{
    private readonly EventHub _hub;
    private readonly Func<MoteyEvent, bool> _filter;
    private readonly Channel<MoteyEvent> _queue = Channel.CreateBounded<MoteyEvent>(
        new BoundedChannelOptions(EventHub.BufferSize) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _dropped = new();

    /// <summary>A part of the agent, not a client of the event stream.</summary>
    internal bool Internal { get; init; }

    internal EventSubscription(EventHub hub, Func<MoteyEvent, bool> filter, string? reset, IReadOnlyList<MoteyEvent> replay)
    {
        (_hub, _filter, ResetReason, Replay) = (hub, filter, reset, replay);
    }

    /// <summary>Why the subscriber must read the state again before the replay; null when the replay is complete.</summary>
    public string? ResetReason { get; }

    /// <summary>The kept events the subscriber asked for, oldest first.</summary>
    public IReadOnlyList<MoteyEvent> Replay { get; }

    /// <summary>The live events, in the order published; completed when the subscriber was dropped.</summary>
    public ChannelReader<MoteyEvent> Events => _queue.Reader;

    /// <summary>True once the subscriber fell <see cref="EventHub.BufferSize"/> events behind and was dropped.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Cancelled when the subscriber is dropped.</summary>
    public CancellationToken Dropped => _dropped.Token;

    internal bool Wants(MoteyEvent published) => _filter(published);

    internal bool TryQueue(MoteyEvent published) => _queue.Writer.TryWrite(published);

    internal void Overflow()
    {
        Overflowed = true;
        _queue.Writer.TryComplete();
        // On the thread pool: the publisher holds the hub's lock, and cancellation runs whatever the reader registered.
        // Nothing may escape a work item (it would end the process): a reader's callback that throws only ends that reader.
        ThreadPool.UnsafeQueueUserWorkItem(static cts => { try { cts.Cancel(); } catch (ObjectDisposedException) { } catch (AggregateException) { } }, _dropped, preferLocal: false);
    }

    /// <summary>Leaves the hub.</summary>
    public void Dispose()
    {
        _hub.Unsubscribe(this);
        _queue.Writer.TryComplete();
        _dropped.Dispose();
    }
}
