using System.Net;

namespace Motey.Host.Peers;

/// <summary>
/// Tells the log about connections that a CURVE socket refused (they did not complete the handshake: no cluster key,
/// another cluster's key, plain ZeroMQ, or not ZeroMQ at all). The first refusal after a quiet minute is a warning of
/// its own; the ones after it are summed up in at most one warning per <see cref="Interval"/> (how many, from where,
/// on which sockets), so a scanner or a misconfigured node that reconnects ten times a second cannot flood the log.
/// Thread-safe: every socket of a node reports here from its own poller thread.
/// </summary>
internal sealed class HandshakeRefusals(ILogger log, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>Addresses counted one by one in a summary; beyond this they are counted together.</summary>
    private const int MaxSources = 1_000;
    private const int SourcesShown = 10;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _sources = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _sockets = new(StringComparer.Ordinal);
    private DateTimeOffset? _lastWarning;
    private int _count;
    private int _otherSources;

    /// <summary>Warnings written so far (for tests).</summary>
    public int Warnings { get; private set; }

    /// <summary>
    /// One refused connection to <paramref name="socket"/> (bound on <paramref name="endpoint"/>) from <paramref name="remote"/>
    /// (null: NetMQ no longer knew).
    /// </summary>
    public void Refused(string socket, string endpoint, IPEndPoint? remote)
    {
        var from = remote?.Address.ToString() ?? "an address NetMQ did not keep";
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_count == 0 && (_lastWarning is not { } last || now - last >= Interval))
            {
                _lastWarning = now;
                Warnings++;
                log.LogWarning("Refused a connection from {Remote} to the {Socket} on {Endpoint}: it did not complete the CURVE handshake, "
                    + "so it does not hold this cluster's key ([ZEROMQ] cluster_key; or it speaks plain ZeroMQ, or not ZeroMQ). It gets no "
                    + "answer; further refusals are summed up at most once a minute", remote?.ToString() ?? from, socket, endpoint);
                return;
            }
            _count++;
            _sockets.Add(socket);
            if (_sources.TryGetValue(from, out var seen)) _sources[from] = seen + 1;
            else if (_sources.Count < MaxSources) _sources[from] = 1;
            else _otherSources++;
        }
    }

    /// <summary>The summary of the refusals since the last warning, once <see cref="Interval"/> has passed (at once when <paramref name="final"/>).</summary>
    public void Flush(bool final = false)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_count == 0 || (!final && _lastWarning is { } last && now - last < Interval)) return;
            var seconds = _lastWarning is { } since ? (now - since).TotalSeconds : 0;
            var shown = _sources.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).Take(SourcesShown)
                .Select(s => $"{s.Key} ({s.Value})").ToList();
            var hidden = _sources.Count - shown.Count;
            if (hidden > 0 || _otherSources > 0)
                shown.Add($"and {(hidden > 0 ? $"{hidden} more addresses" : "")}{(hidden > 0 && _otherSources > 0 ? " plus " : "")}"
                    + $"{(_otherSources > 0 ? $"{_otherSources} connections from others" : "")}");
            Warnings++;
            log.LogWarning("Refused {Count} more connections without this cluster's key in the last {Seconds:0} s on the {Sockets}, from {Sources}",
                _count, seconds, string.Join(", ", _sockets), string.Join(", ", shown));
            _lastWarning = now;
            _count = 0;
            _otherSources = 0;
            _sources.Clear();
            _sockets.Clear();
        }
    }
}
