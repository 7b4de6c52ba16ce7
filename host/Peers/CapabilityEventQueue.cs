using System.Threading.Channels;

namespace Motey.Host.Peers;

/// <summary>
/// The capability events received and not applied yet, bounded both in number and in bytes: a publisher that sends
/// faster than the store applies (a flood of large events through the ipc socket, say) waits for room, so the agent's
/// memory stays bounded whatever the publishers do. Several writers (each ipc connection, the NetMQ poller), one reader.
/// </summary>
internal sealed class CapabilityEventQueue
{
    public const int Capacity = 100_000;

    /// <summary>Bytes the waiting events may hold together; one event larger than this still passes when the queue is empty.</summary>
    public const long ByteBudget = 64L * 1024 * 1024;

    private static readonly TimeSpan RoomPoll = TimeSpan.FromMilliseconds(10);

    private readonly Channel<(List<byte[]> Frames, long Size)> _channel = Channel.CreateBounded<(List<byte[]> Frames, long Size)>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
    private long _bytes;

    /// <summary>Events waiting.</summary>
    public int Count => _channel.Reader.Count;

    /// <summary>Queues one event (its frames), waiting while the queue is full in number or in bytes.</summary>
    public async ValueTask WriteAsync(List<byte[]> frames, CancellationToken cancellationToken)
    {
        long size = 0;
        foreach (var frame in frames) size += frame.Length;
        // Room is made by the reader only: waiting is polled, as it happens only while publishers outrun the store.
        while (Interlocked.Read(ref _bytes) > 0 && Interlocked.Read(ref _bytes) + size > ByteBudget)
            await Task.Delay(RoomPoll, cancellationToken);
        Interlocked.Add(ref _bytes, size);
        try
        {
            if (!_channel.Writer.TryWrite((frames, size))) await _channel.Writer.WriteAsync((frames, size), cancellationToken);
        }
        catch
        {
            Interlocked.Add(ref _bytes, -size);
            throw;
        }
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    public bool TryRead(out List<byte[]> frames)
    {
        if (!_channel.Reader.TryRead(out var item))
        {
            frames = [];
            return false;
        }
        frames = item.Frames;
        Interlocked.Add(ref _bytes, -item.Size);
        return true;
    }
}
