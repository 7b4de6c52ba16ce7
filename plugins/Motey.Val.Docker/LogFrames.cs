using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Motey.Abstractions;
using Motey.Val.Shared;

namespace Motey.Val.Docker;

/// <summary>
/// Decodes the engine's multiplexed logs stream of a container without a TTY, asked for with timestamps: frames of an
/// 8-byte header (stream type, 3 zero bytes, big-endian payload length) and a payload that is one log message, starting
/// with its time (RFC 3339 with nanoseconds) and a space. A message is a line or, for a line longer than the logging
/// driver's buffer (16 KiB for json-file), a piece of one, each piece with its own time: the pieces are joined again and
/// the line gets the time of its first. Bytes may arrive in any chunks. Not thread-safe.
/// </summary>
internal sealed class LogFrames
{
    private const int HeaderLength = 8;
    // "2006-01-02T15:04:05.000000000+07:00" is 35 bytes; anything much longer before a space is no timestamp.
    private const int MaxTimestampLength = 64;

    private readonly LogLineSplitter _stdout = new(LogSource.Stdout);
    private readonly LogLineSplitter _stderr = new(LogSource.Stderr);
    private readonly byte[] _header = new byte[HeaderLength];
    private int _headerFill;
    private long _remaining;
    private byte _stream;
    private readonly byte[] _timestamp = new byte[MaxTimestampLength];
    private int _timestampFill;
    private bool _inTimestamp;
    private DateTimeOffset? _time;
    private readonly List<byte> _engineError = [];

    /// <summary>
    /// Decodes the next bytes of the stream; the lines they complete are added to <paramref name="lines"/>, in the order
    /// they were completed. Throws <see cref="IOException"/> for a stream that is not the engine's multiplexed format.
    /// </summary>
    public void Decode(ReadOnlySpan<byte> bytes, List<LogLine> lines)
    {
        while (!bytes.IsEmpty)
        {
            if (_remaining == 0)
            {
                var take = Math.Min(HeaderLength - _headerFill, bytes.Length);
                bytes[..take].CopyTo(_header.AsSpan(_headerFill));
                _headerFill += take;
                bytes = bytes[take..];
                if (_headerFill < HeaderLength) return;
                StartFrame();
                continue;
            }
            var part = bytes[..(int)Math.Min(_remaining, bytes.Length)];
            bytes = bytes[part.Length..];
            _remaining -= part.Length;
            Payload(part, lines);
            if (_remaining == 0) EndFrame();
        }
    }

    /// <summary>
    /// At the end of the stream: the partial last lines, if any, as lines of their own. Throws <see cref="IOException"/>
    /// when the stream ended inside a frame, and <see cref="InvalidOperationException"/> with the engine's words when
    /// it reported an error in the stream.
    /// </summary>
    public void Finish(List<LogLine> lines)
    {
        if (_headerFill > 0 || _remaining > 0) throw new IOException("the engine's logs stream ended in the middle of a frame");
        _stdout.Flush(lines);
        _stderr.Flush(lines);
    }

    private void StartFrame()
    {
        _headerFill = 0;
        _stream = _header[0];
        if (_stream > 3) throw new IOException($"the engine's logs stream has a frame of unknown stream type {_stream}");
        _remaining = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(4));
        _inTimestamp = _stream is 1 or 2;
        _timestampFill = 0;
        _time = null;
    }

    private void Payload(ReadOnlySpan<byte> part, List<LogLine> lines)
    {
        if (_stream is 0 or 3)
        {
            // 3 is the engine's own error while streaming (stdcopy's Systemerr); stdin (0) never comes in logs.
            if (_stream == 3 && _engineError.Count < 4096) _engineError.AddRange(part[..Math.Min(part.Length, 4096)]);
            return;
        }
        if (_inTimestamp)
        {
            var space = part.IndexOf((byte)' ');
            var stamp = space < 0 ? part : part[..space];
            if (_timestampFill + stamp.Length > MaxTimestampLength)
            {
                // No time in front of this message after all: keep what was taken for one as text.
                _inTimestamp = false;
                Splitter.Append(_timestamp.AsSpan(0, _timestampFill), null, lines);
            }
            else
            {
                stamp.CopyTo(_timestamp.AsSpan(_timestampFill));
                _timestampFill += stamp.Length;
                if (space < 0) return;
                _inTimestamp = false;
                _time = ParseTime(Encoding.ASCII.GetString(_timestamp, 0, _timestampFill));
                part = part[(space + 1)..];
            }
        }
        Splitter.Append(part, _time, lines);
    }

    private void EndFrame()
    {
        if (_stream == 3 && _engineError.Count > 0)
        {
            throw new InvalidOperationException(Encoding.UTF8.GetString(_engineError.ToArray()).Trim());
        }
    }

    private LogLineSplitter Splitter => _stream == 2 ? _stderr : _stdout;

    /// <summary>
    /// The engine's time (RFC 3339 with up to 9 fraction digits, <c>Z</c> or an offset), to the 100 ns .NET keeps; null
    /// when it is not one.
    /// </summary>
    internal static DateTimeOffset? ParseTime(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            var digits = dot + 1;
            while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
            // .NET reads at most 7 fraction digits: drop the nanoseconds beyond them.
            if (digits - dot - 1 > 7) text = string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(digits));
        }
        return DateTimeOffset.TryParseExact(
            text, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            || DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time)
            ? time
            : null;
    }
}
