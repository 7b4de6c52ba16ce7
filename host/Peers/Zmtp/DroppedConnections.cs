namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// Tells the log about connections a listener dropped (a malformed greeting or frame, a wrong socket type, over a
/// limit). The first drop after a quiet <see cref="Interval"/> is a warning of its own with its reason; the ones after
/// it are summed up in at most one warning per interval (how many, which reasons, from which processes), so a client
/// that reconnects in a loop cannot flood the log. Thread-safe: every connection loop reports here.
/// </summary>
internal sealed class DroppedConnections(ILogger log, string what, string endpoint, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>Distinct reasons and peers counted one by one in a summary; beyond this they are counted together.</summary>
    private const int MaxDistinct = 100;
    private const int Shown = 5;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _reasons = new(StringComparer.Ordinal);
    private readonly HashSet<string> _peers = new(StringComparer.Ordinal);
    private DateTimeOffset? _lastWarning;
    private int _count;

    /// <summary>Warnings written so far (for tests).</summary>
    public int Warnings { get; private set; }

    /// <summary>One connection from <paramref name="peer"/> dropped for <paramref name="reason"/>.</summary>
    public void Dropped(string peer, string reason)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_count == 0 && (_lastWarning is not { } last || now - last >= Interval))
            {
                _lastWarning = now;
                Warnings++;
                log.LogWarning("Dropped a connection from {Peer} to the {Socket} on {Endpoint}: {Reason}. The listener goes on; further drops "
                    + "are summed up at most once a minute", peer, what, endpoint, reason);
                return;
            }
            _count++;
            if (_reasons.TryGetValue(reason, out var seen)) _reasons[reason] = seen + 1;
            else if (_reasons.Count < MaxDistinct) _reasons[reason] = 1;
            if (_peers.Count < MaxDistinct) _peers.Add(peer);
        }
    }

    /// <summary>The summary of the drops since the last warning, once <see cref="Interval"/> has passed (at once when <paramref name="final"/>).</summary>
    public void Flush(bool final = false)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_count == 0 || (!final && _lastWarning is { } last && now - last < Interval)) return;
            var seconds = _lastWarning is { } since ? (now - since).TotalSeconds : 0;
            var reasons = _reasons.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Take(Shown).Select(r => $"{r.Key} ({r.Value})");
            var peers = _peers.Order(StringComparer.Ordinal).Take(Shown).ToList();
            if (_peers.Count > Shown) peers.Add($"{_peers.Count - Shown} more");
            Warnings++;
            log.LogWarning("Dropped {Count} more connections to the {Socket} on {Endpoint} in the last {Seconds:0} s, from {Peers}: {Reasons}",
                _count, what, endpoint, seconds, string.Join(", ", peers), string.Join("; ", reasons));
            _lastWarning = now;
            _count = 0;
            _reasons.Clear();
            _peers.Clear();
        }
    }
}
