using Microsoft.Win32.SafeHandles;

namespace Motey.Val.Process;

/// <summary>
/// Reads an instance's output as one stream of bytes across its rotated generation and its log, from the start of its
/// last N lines, and on as the log grows, following the bytes when a rotation moves them to <c>.log.1</c>.
/// </summary>
/// <remarks>
/// Each read takes the instance's lock only while it reads a chunk, so a slow consumer never holds up a rotation. The
/// previous <c>.log.1</c>, once opened, stays readable when a rotation replaces its name. When more rotations happened
/// between two reads than one, what the rotated-away generations held is skipped: only a consumer slower than the
/// program's writing by half of <c>log_max_bytes</c> loses lines so.
/// </remarks>
internal sealed class LogFileReader : IDisposable
{
    private const int ScanBlock = 64 * 1024;

    private readonly LogFiles _files;
    private readonly ProcessInstanceId _id;
    private readonly LogFiles.LogState _state;
    private SafeFileHandle? _current;
    private SafeFileHandle? _rotated;
    private bool _inRotated;
    private long _offset;
    private int _generation;

    private LogFileReader(LogFiles files, ProcessInstanceId id)
    {
        _files = files;
        _id = id;
        _state = files.StateOf(id);
    }

    /// <summary>
    /// Opens the output of an instance, positioned at the start of its last <paramref name="tail"/> lines (a partial
    /// last line counts as one), or at its very start when null. Rotates the log first if it is full.
    /// </summary>
    public static LogFileReader Open(LogFiles files, ProcessInstanceId id, int? tail)
    {
        var reader = new LogFileReader(files, id);
        try
        {
            lock (reader._state.Gate)
            {
                files.RotateIfFullLocked(id, reader._state);
                reader._generation = reader._state.Generation;
                reader._current = TryOpen(files.CurrentOf(id));
                reader._rotated = TryOpen(files.RotatedOf(id));
                var start = tail is { } lines ? reader.StartOfLastLines(lines) : 0;
                var rotatedLength = reader._rotated is null ? 0 : RandomAccess.GetLength(reader._rotated);
                reader._inRotated = start < rotatedLength;
                reader._offset = reader._inRotated ? start : start - rotatedLength;
                if (!reader._inRotated) reader.CloseRotated();
            }
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next bytes into <paramref name="buffer"/>; 0 when everything written so far has been read.</summary>
    public int Read(Span<byte> buffer)
    {
        lock (_state.Gate)
        {
            while (true)
            {
                if (_inRotated)
                {
                    var read = _rotated is null ? 0 : RandomAccess.Read(_rotated, buffer, _offset);
                    if (read > 0)
                    {
                        _offset += read;
                        return read;
                    }
                    if (_state.Generation == _generation)
                    {
                        // The rotated generation is done: the log goes on where it was copied from, at its start.
                        CloseRotated();
                        _inRotated = false;
                        _offset = 0;
                    }
                    else
                    {
                        // Rotated while we read the old copy: the log we had not begun is now .log.1, from its start.
                        FollowRotation();
                    }
                    continue;
                }
                if (_state.Generation != _generation)
                {
                    // The log was copied to .log.1 (from RotatedFrom on) and truncated: our offset in it is now an offset
                    // in .log.1; after more than one rotation what we had not read is gone, and .log.1 is read whole.
                    var moved = _state.Generation == _generation + 1;
                    var offset = Math.Max(0, _offset - _state.RotatedFrom);
                    FollowRotation();
                    if (moved) _offset = offset;
                    continue;
                }
                _current ??= TryOpen(_files.CurrentOf(_id));
                if (_current is null) return 0;
                // Shorter than what we read: truncated by someone else; what it held is gone.
                if (RandomAccess.GetLength(_current) < _offset) _offset = 0;
                var count = RandomAccess.Read(_current, buffer, _offset);
                _offset += count;
                return count;
            }
        }
    }

    public void Dispose()
    {
        _current?.Dispose();
        CloseRotated();
    }

    /// <summary>Goes on in the newest .log.1, from its start.</summary>
    private void FollowRotation()
    {
        CloseRotated();
        _rotated = TryOpen(_files.RotatedOf(_id));
        _inRotated = true;
        _offset = 0;
        _generation = _state.Generation;
    }

    private void CloseRotated()
    {
        _rotated?.Dispose();
        _rotated = null;
    }

    /// <summary>
    /// Where the last <paramref name="lines"/> lines start, as an offset into .log.1 followed by the log: found by counting
    /// newlines backwards from the end, the final newline ending the last line rather than starting an empty one; a
    /// partial last line counts as a line, and for 0 lines the answer is where that partial line starts.
    /// </summary>
    private long StartOfLastLines(int lines)
    {
        var rotatedLength = _rotated is null ? 0 : RandomAccess.GetLength(_rotated);
        var end = rotatedLength + (_current is null ? 0 : RandomAccess.GetLength(_current));
        var block = new byte[ScanBlock];
        var position = end;
        var endsWithNewline = end > 0 && ReadAt(end - 1, block.AsSpan(0, 1)) == 1 && block[0] == (byte)'\n';
        if (endsWithNewline && lines == 0) return end;
        if (endsWithNewline) position--;
        // No line at all: the start of the partial last line (what comes after the last newline).
        var wanted = Math.Max(lines, 1);
        var found = 0;
        while (position > 0)
        {
            var from = Math.Max(0, position - ScanBlock);
            var span = block.AsSpan(0, (int)(position - from));
            var filled = 0;
            while (filled < span.Length)
            {
                var read = ReadAt(from + filled, span[filled..]);
                if (read == 0) break;
                filled += read;
            }
            for (var i = filled - 1; i >= 0; i--)
            {
                if (span[i] != (byte)'\n') continue;
                if (++found == wanted) return from + i + 1;
            }
            position = from;
        }
        return 0;

        int ReadAt(long offset, Span<byte> into) => offset < rotatedLength
            ? RandomAccess.Read(_rotated!, into[..(int)Math.Min(into.Length, rotatedLength - offset)], offset)
            : _current is null ? 0 : RandomAccess.Read(_current, into, offset - rotatedLength);
    }

    private static SafeFileHandle? TryOpen(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
