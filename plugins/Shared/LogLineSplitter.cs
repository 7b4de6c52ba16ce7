using System.Text;
using Motey.Abstractions;

namespace Motey.Val.Shared;

/// <summary>
/// Turns the bytes one output of an instance printed into <see cref="LogLine"/>s: split on <c>\n</c> (which is dropped),
/// a partial last line kept until its newline comes or <see cref="Flush"/> gives it up, invalid UTF-8 replaced with
/// U+FFFD. A line longer than <see cref="MaxLineBytes"/> is cut into pieces of that size (at a character boundary), so
/// a program that never prints a newline cannot make the reader hold its whole output. Compiled into each plugin that
/// reads logs (a source file, not an assembly: the plugins share nothing but the contract). Not thread-safe.
/// </summary>
internal sealed class LogLineSplitter(LogSource source)
{
    /// <summary>The longest line kept whole: 64 KiB, well within what one reply of a peer's logs session carries.</summary>
    public const int MaxLineBytes = 64 * 1024;

    // Encoding.UTF8 replaces invalid sequences with U+FFFD rather than throwing. A line is decoded only once complete
    // (\n never occurs inside a multi-byte sequence), so a character split across two reads is never mangled.
    private static readonly Encoding s_utf8 = Encoding.UTF8;

    private byte[] _pending = new byte[256];
    private int _count;
    private DateTimeOffset? _time;

    /// <summary>
    /// Adds bytes the output printed; each line completed by them is added to <paramref name="lines"/>. A line's time is
    /// the <paramref name="time"/> given with its first bytes.
    /// </summary>
    public void Append(ReadOnlySpan<byte> bytes, DateTimeOffset? time, List<LogLine> lines)
    {
        while (!bytes.IsEmpty)
        {
            _time ??= time;
            var newline = bytes.IndexOf((byte)'\n');
            Add(newline < 0 ? bytes : bytes[..newline], time, lines);
            if (newline < 0) return;
            Emit(lines);
            bytes = bytes[(newline + 1)..];
        }
    }

    /// <summary>Gives up the partial last line, if any, as a line of its own: at the end of the output.</summary>
    public void Flush(List<LogLine> lines)
    {
        if (_count > 0) Emit(lines);
        _time = null;
    }

    private void Add(ReadOnlySpan<byte> piece, DateTimeOffset? time, List<LogLine> lines)
    {
        while (_count + piece.Length > MaxLineBytes)
        {
            var room = MaxLineBytes - _count;
            var cut = room;
            // Back off over UTF-8 continuation bytes (10xxxxxx) so the cut falls between two characters.
            while (cut > 0 && cut < piece.Length && (piece[cut] & 0xC0) == 0x80) cut--;
            if (cut == 0 && _count == 0) cut = room;
            Store(piece[..cut]);
            Emit(lines);
            _time = time;
            piece = piece[cut..];
        }
        Store(piece);
    }

    private void Store(ReadOnlySpan<byte> piece)
    {
        if (_count + piece.Length > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Min(MaxLineBytes, Math.Max(_pending.Length * 2, _count + piece.Length)));
        }
        piece.CopyTo(_pending.AsSpan(_count));
        _count += piece.Length;
    }

    private void Emit(List<LogLine> lines)
    {
        lines.Add(new LogLine(_time, source, s_utf8.GetString(_pending, 0, _count)));
        _count = 0;
        _time = null;
        // A long line grew the buffer; do not keep 64 KiB per output for the rest of a follow.
        if (_pending.Length > 4096) _pending = new byte[256];
    }
}
