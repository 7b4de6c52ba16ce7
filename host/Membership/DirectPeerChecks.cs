using System.Collections.Concurrent;
using System.Diagnostics;
using Motey.Host.Configuration;
using Motey.Host.Core.Membership;

namespace Motey.Host.Membership;

/// <summary>
/// Membership that does not stand or fall with one broker. The peers this node has not heard on its current broker
/// connection (every peer from the moment a broker is lost until they announce themselves again; see
/// <see cref="ClusterNodes.BeginResync"/>) are asked for their capabilities over ZeroMQ, one request every
/// <see cref="CheckInterval"/> each, bounded by [ZEROMQ] request_timeout. A peer that fails
/// <see cref="MissesToDrop"/> checks in a row (no answer, or no readable one) is dropped; one that answers is kept,
/// and checked on until it announces itself on the broker. While the broker works no peer is unconfirmed and
/// nothing is sent.
/// </summary>
internal sealed class DirectPeerChecks(ClusterNodes nodes, MoteySettings settings, ILogger<DirectPeerChecks> log) : BackgroundService
{
    /// <summary>
    /// From the start of one check of a peer to the start of the next (or its end, when the request took longer).
    /// Short, so a dead peer goes within a few request timeouts; cheap, since only unconfirmed peers are asked, each
    /// with one small request.
    /// </summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>Failed checks in a row that drop a peer: one lost or late answer (a pause, a busy node) never drops a live one.</summary>
    public const int MissesToDrop = 3;

    /// <summary>Checks out at once: a node that joins a large cluster checks every member it learned from retained presences, once.</summary>
    public const int MaxChecksAtOnce = 64;

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly SemaphoreSlim _slots = new(MaxChecksAtOnce, MaxChecksAtOnce);

    /// <summary>
    /// A peer these checks dropped, and whether this node had heard it alive since it was listed (membership clears the
    /// presence of one it never heard: a dead node's left on the broker).
    /// </summary>
    public event Action<string, bool>? Dropped;
    private readonly ConcurrentDictionary<string, byte> _watched = new(StringComparer.Ordinal);

    /// <summary>
    /// How long a dead peer stays listed, at most, once it is unconfirmed (the broker was lost): its checks start at
    /// once, each starts max(<see cref="CheckInterval"/>, request_timeout) after the one before, and the last fails
    /// after request_timeout. 15 s with the default request_timeout of 5 s; 6 s with 2 s.
    /// </summary>
    public static TimeSpan DropBound(TimeSpan requestTimeout) =>
        (MissesToDrop - 1) * (requestTimeout > CheckInterval ? requestTimeout : CheckInterval) + requestTimeout;

    /// <summary>Starts checking the unconfirmed peers now rather than at the next look (the broker was just lost).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        log.LogDebug("Direct peer checks: every {Interval} s, a peer is dropped after {Misses} failed in a row (within {Bound} s)",
            CheckInterval.TotalSeconds, MissesToDrop, DropBound(settings.ZeroMq.RequestTimeout).TotalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var address in nodes.UnconfirmedAddresses)
            {
                if (_watched.TryAdd(address, 0)) _ = WatchAsync(address, stoppingToken);
            }
            await _wake.WaitAsync(CheckInterval, stoppingToken);
        }
    }

    /// <summary>Checks one peer until it is confirmed, gone, or dropped here. Never throws.</summary>
    private async Task WatchAsync(string address, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var misses = 0;
        try
        {
            while (nodes.IsUnconfirmed(address) && nodes.Find(address) is { } peer)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await _slots.WaitAsync(stoppingToken);
                    try
                    {
                        // A check does not keep its connection: most checks are a joiner's one look at each member.
                        await peer.CheckAsync(stoppingToken);
                    }
                    finally
                    {
                        _slots.Release();
                    }
                    if (misses > 0) log.LogInformation("Node {Address} answers direct checks again", address);
                    misses = 0;
                    if (await nodes.ConfirmAnsweredAsync(address, stoppingToken))
                    {
                        log.LogDebug("Node {Address} answered its direct check: confirmed", address);
                        return;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    if (++misses >= MissesToDrop)
                    {
                        var heard = nodes.WasHeard(address);
                        if (await nodes.RemoveUnconfirmedAsync(address, stoppingToken))
                        {
                            log.LogWarning("Node {Address} left: not heard on the broker, and {Misses} direct checks in a row failed (the last: {Error})",
                                address, misses, e.Message);
                            Dropped?.Invoke(address, heard);
                        }
                        return;
                    }
                    log.LogInformation("Node {Address} failed direct check {Miss} of {Misses}: {Error}", address, misses, MissesToDrop, e.Message);
                }
                var rest = CheckInterval - Stopwatch.GetElapsedTime(started);
                if (rest > TimeSpan.Zero) await Task.Delay(rest, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogError(e, "Checking node {Address} directly failed", address);
        }
        finally
        {
            _watched.TryRemove(address, out _);
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        _slots.Dispose();
        base.Dispose();
    }
}
