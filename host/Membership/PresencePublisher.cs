using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Events;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;

namespace Motey.Host.Membership;

/// <summary>
/// Publishes this node's <see cref="Presence"/>: on each connection before it announces itself (membership calls
/// <see cref="PublishAsync"/>), and again whenever its capabilities change, a burst of changes coalesced into one
/// publish that always carries the list as it is after the burst. Publishes are serialised and each reads the list
/// itself, so the last one out carries the latest list, whichever change or connection caused it.
/// </summary>
internal sealed class PresencePublisher(NodeIdentity identity, ICapabilityStore capabilities, EventHub events, ILogger<PresencePublisher> log)
    : IDisposable
{
    /// <summary>
    /// How long a change waits for the rest of its burst (an engine activating, a batch of capability events): peers
    /// get one presence per burst rather than one per capability, and see a change within this.
    /// </summary>
    public static readonly TimeSpan Coalescing = TimeSpan.FromMilliseconds(100);

    private readonly SemaphoreSlim _gate = new(1, 1);
    // Written under the gate, read by membership's message handler too.
    private volatile BrokerConnection? _on;
    private volatile byte[]? _last;
    private volatile bool _out;
    private volatile BrokerConnection? _left;

    /// <summary>
    /// False while this node has no presence out on its broker (before the first publish, or when its presence was too
    /// large to publish): then it must answer every <c>nodes_request</c>, as a node of the original does, or a joiner
    /// that learns members from presences alone would never hear of it.
    /// </summary>
    public bool IsOut => _out;

    /// <summary>
    /// Publishes the presence with the capabilities as they are now on <paramref name="connection"/>; nothing when
    /// exactly this presence is already out on it, unless <paramref name="again"/>.
    /// </summary>
    public async Task PublishAsync(BrokerConnection connection, CancellationToken cancellationToken, bool again = false)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (connection == _left) return;  // cleared there on leaving: the next connection publishes the list
            IReadOnlyList<Capability> list;
            try
            {
                list = await capabilities.AllAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // No presence is no reason to stay out of the cluster: without one this node answers every nodes_request.
                log.LogError(e, "Could not read this node's capabilities for its presence on {Broker}: {Error}", connection.Broker, e.Message);
                if (connection != _on) _out = false;
                return;
            }
            var payload = Presence.Write(identity.Address, list);
            if (!again && connection == _on && _last is { } last && last.AsSpan().SequenceEqual(payload)) return;
            var fits = payload.Length <= Presence.MaxPayloadBytes;
            if (!fits)
            {
                log.LogError("This node's presence would be {Bytes} bytes with its {Count} capabilities, more than peers read ({Max}): it is cleared, and peers ask this node the v1 way",
                    payload.Length, list.Count, Presence.MaxPayloadBytes);
                payload = [];
            }
            await connection.PublishRetainedAsync(Presence.Topic(identity.Address), payload, cancellationToken);
            (_on, _last, _out) = (connection, payload, fits);
            log.LogDebug("Published this node's presence with {Count} capabilities on {Broker}", list.Count, connection.Broker);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Clears the presence on <paramref name="connection"/> (an empty retained payload): the node leaves that broker.</summary>
    public async Task ClearAsync(BrokerConnection connection, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await connection.PublishRetainedAsync(Presence.Topic(identity.Address), [], cancellationToken);
            (_on, _last, _out) = (null, null, false);
            _left = connection;  // a change published meanwhile must not put the presence back on the broker being left
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether this node's last publish on <paramref name="connection"/> was a presence (not a clear).</summary>
    public bool IsOutOn(BrokerConnection connection) => _out && _on == connection;

    /// <summary>
    /// Publishes after every burst of capability changes on the connection <paramref name="current"/> gives, until
    /// <paramref name="stoppingToken"/>. It subscribes to the changes before it first yields, so a caller that then
    /// connects and publishes misses no change made after its own publish read the list.
    /// </summary>
    public async Task FollowChangesAsync(Func<BrokerConnection?> current, CancellationToken stoppingToken)
    {
        var subscription = events.Subscribe(null, IsCapabilityChange, internalUse: true);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!await subscription.Events.WaitToReadAsync(stoppingToken))
                {
                    // Fell a whole event buffer behind (it cannot while it publishes; but a lost change would stay lost).
                    subscription.Dispose();
                    subscription = events.Subscribe(null, IsCapabilityChange, internalUse: true);
                }
                await Task.Delay(Coalescing, stoppingToken);
                while (subscription.Events.TryRead(out _)) { }
                if (current() is not { IsConnected: true } connection) continue;  // the next connection publishes the list anyway
                try
                {
                    await PublishAsync(connection, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The connection is going: the next one publishes the list as it is then.
                    log.LogWarning("Could not publish this node's changed capabilities on {Broker}: {Error}", connection.Broker, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            subscription.Dispose();
        }
    }

    private static bool IsCapabilityChange(MoteyEvent e) => e.Type == EventTypes.Capability;

    public void Dispose() => _gate.Dispose();
}
