using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Motey.Host.Peers;

/// <summary>
/// Which peers answered a ZeroMQ request, for their last-seen time: every answer is told here, and at most one per
/// node per <see cref="Interval"/> is passed on (placement alone may ask every peer several times a second; the
/// nodes table need not be written that often). Which peers did not answer one within its timeout, so membership
/// checks them directly (<see cref="Unanswered"/>). The reader is membership's last-seen recorder.
/// </summary>
internal sealed class PeerAnswers(TimeProvider clock)
{
    /// <summary>How often one node's last-seen time may be written because it answered: "a few seconds" is exact enough for GET /v1/nodes.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, long> _passedOn = new(StringComparer.Ordinal);
    // Bounded by the number of peers (one entry per node per interval); DropWrite only guards against a flood of new addresses.
    private readonly Channel<string> _answered = Channel.CreateBounded<string>(new BoundedChannelOptions(4096)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    // Bounded like the answers; a peer already being checked is skipped by the reader, so a full channel loses nothing that matters.
    private readonly Channel<(string Address, string Problem)> _unanswered = Channel.CreateBounded<(string, string)>(new BoundedChannelOptions(4096)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>The addresses to record as seen now.</summary>
    public ChannelReader<string> Reader => _answered.Reader;

    /// <summary>The peers that let a request time out, with the request's problem: membership suspects them (checks them directly).</summary>
    public ChannelReader<(string Address, string Problem)> Unanswered => _unanswered.Reader;

    /// <summary>
    /// The node at <paramref name="address"/> did not answer a request within its timeout; cheap, never blocks. A node
    /// that died while its leave went unheard (a broker or bridge outage, a retained presence nobody cleared) is found
    /// so by whoever asks it next: its instances are placed again instead of being followed on a node that is gone.
    /// </summary>
    public void NotAnswered(string address, string problem) => _unanswered.Writer.TryWrite((address, problem));

    /// <summary>
    /// Whether a node other than <paramref name="except"/> answered a request of this node within <paramref name="within"/>
    /// (as recorded: at most once per node per <see cref="Interval"/>, so a few seconds late at most): whether this node's
    /// ZeroMQ reaches anyone at all.
    /// </summary>
    public bool AnsweredSince(TimeSpan within, string except)
    {
        var since = clock.GetTimestamp() - (long)(within.TotalSeconds * clock.TimestampFrequency);
        foreach (var (address, at) in _passedOn)
        {
            if (at >= since && address != except) return true;
        }
        return false;
    }

    /// <summary>The node at <paramref name="address"/> answered a request; cheap, never blocks.</summary>
    public void Answered(string address)
    {
        var now = clock.GetTimestamp();
        var interval = (long)(Interval.TotalSeconds * clock.TimestampFrequency);
        var passOn = false;
        _passedOn.AddOrUpdate(address,
            _ => { passOn = true; return now; },
            (_, last) =>
            {
                passOn = now - last >= interval;
                return passOn ? now : last;
            });
        if (passOn) _answered.Writer.TryWrite(address);
    }
}
