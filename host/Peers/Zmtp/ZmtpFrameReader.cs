using System.Buffers.Binary;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// Reads a greeting and then frames from a stream, through a buffer of its own (a frame header is a few octets: one
/// read each would be one system call each). A frame declaring more than <paramref name="maxFrameBytes"/> is refused
/// before its body is read, and a body is allocated as its octets arrive, so a peer that declares 16 MiB and sends ten
/// octets costs ten octets. Not thread-safe: one connection loop reads.
/// </summary>
internal sealed class ZmtpFrameReader(Stream stream, long maxFrameBytes)
{
    private const int BufferSize = 64 * 1024;

    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;

    /// <summary>
    /// Fills <paramref name="destination"/>. False when the stream ended before its first octet (the peer closed between
    /// units, or never said anything); throws <see cref="ZmtpProtocolException"/> when it ended part way.
    /// </summary>
    public async ValueTask<bool> ReadExactAsync(Memory<byte> destination, string what, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < destination.Length)
        {
            var read = await ReadSomeAsync(destination[filled..], cancellationToken);
            if (read == 0)
            {
                if (filled == 0) return false;
                throw new ZmtpProtocolException($"it closed the connection in the middle of {what} ({filled} of {destination.Length} octets)");
            }
            filled += read;
        }
        return true;
    }

    /// <summary>The next frame; null when the peer closed the connection between frames.</summary>
    public async ValueTask<ZmtpFrame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var header = new byte[ZmtpFrame.MaxHeaderSize];
        if (!await ReadExactAsync(header.AsMemory(0, 2), "a frame header", cancellationToken)) return null;
        var flags = header[0];
        if ((flags & ZmtpFrame.Reserved) != 0) throw new ZmtpProtocolException($"a frame has reserved flag bits set (flags 0x{flags:X2})");
        if ((flags & ZmtpFrame.Command) != 0 && (flags & ZmtpFrame.More) != 0)
            throw new ZmtpProtocolException("a command frame has the MORE flag, which RFC 23 forbids");
        ulong size = header[1];
        if ((flags & ZmtpFrame.Long) != 0)
        {
            // The first size octet is already in: seven to go.
            if (!await ReadExactAsync(header.AsMemory(2, 7), "a frame header", cancellationToken))
                throw new ZmtpProtocolException("it closed the connection in the middle of a frame header");
            size = BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(1, 8));
        }
        if (size > (ulong)maxFrameBytes)
        {
            throw new ZmtpProtocolException($"a frame declares {size} octets, over this socket's limit of {maxFrameBytes} "
                + $"({maxFrameBytes / (1024 * 1024)} MiB)");
        }
        return new ZmtpFrame((byte)(flags & ~ZmtpFrame.Long), await ReadBodyAsync((int)size, cancellationToken));
    }

    private async ValueTask<byte[]> ReadBodyAsync(int size, CancellationToken cancellationToken)
    {
        var body = new byte[Math.Min(size, BufferSize)];
        var filled = 0;
        while (filled < size)
        {
            if (filled == body.Length) Array.Resize(ref body, (int)Math.Min(size, body.Length * 2L));
            var read = await ReadSomeAsync(body.AsMemory(filled), cancellationToken);
            if (read == 0) throw new ZmtpProtocolException($"it closed the connection in the middle of a frame ({filled} of {size} octets)");
            filled += read;
        }
        return body;
    }

    /// <summary>Octets from the buffer when it holds any, else from the stream (straight into a large destination).</summary>
    private async ValueTask<int> ReadSomeAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            if (destination.Length >= BufferSize) return await stream.ReadAsync(destination, cancellationToken);
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            if (_end == 0) return 0;
        }
        var count = Math.Min(destination.Length, _end - _start);
        _buffer.AsMemory(_start, count).CopyTo(destination);
        _start += count;
        return count;
    }
}
