using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Motey.Val.Process;

/// <summary>
/// The instances' captured output, <c>logs/&lt;id&gt;.log</c>, kept within <c>[PROCESS] log_max_bytes</c> by rotating it:
/// once the log reaches half the limit its content is copied to <c>&lt;id&gt;.log.1</c> (replacing the one before) and
/// the log is truncated, so the two together stay within the limit, plus what is written between two checks. A log
/// that grew past half the limit between two checks keeps only its newest half-limit in <c>.log.1</c>, from a line start.
/// </summary>
/// <remarks>
/// Copy-then-truncate, because the program writes the log itself, through the launcher's <c>&gt;&gt;</c> (O_APPEND), and
/// outlives agent restarts: the agent cannot move the file under it, and O_APPEND makes its next write land at the new
/// end, 0, instead of leaving a hole. The copy is repeated while the log grows (up to three passes) before the truncate;
/// what the program writes between the last pass and the truncate is lost: a window of a few microseconds per rotation.
/// Rotations are counted per instance (<see cref="LogState.Generation"/>) so that a reader can tell that the bytes it was about to
/// read moved to <c>.log.1</c>. Thread-safe: one lock per instance orders rotations and reads.
/// </remarks>
internal sealed class LogFiles(DataFolders folders, long maxBytes)
{
    private const int CopyPasses = 3;

    private readonly ConcurrentDictionary<ProcessInstanceId, LogState> _states = new();

    /// <summary>The size at which a log is rotated: half the limit, so that the log and its rotated copy keep to it.</summary>
    public long RotateAt { get; } = maxBytes / 2;

    /// <summary>The log the program writes to.</summary>
    public string CurrentOf(ProcessInstanceId id) => folders.LogOf(id);

    /// <summary>The log's one rotated generation.</summary>
    public string RotatedOf(ProcessInstanceId id) => folders.LogOf(id) + ".1";

    /// <summary>The lock and rotation count of an instance's log.</summary>
    public LogState StateOf(ProcessInstanceId id) => _states.GetOrAdd(id, _ => new LogState());

    /// <summary>Rotates the log when it has reached <see cref="RotateAt"/>; true when it did. A missing log is fine.</summary>
    public bool RotateIfFull(ProcessInstanceId id)
    {
        var state = StateOf(id);
        lock (state.Gate) return RotateIfFullLocked(id, state);
    }

    /// <summary>As <see cref="RotateIfFull"/>, for a caller that holds the instance's <see cref="LogState.Gate"/>.</summary>
    public bool RotateIfFullLocked(ProcessInstanceId id, LogState state)
    {
        SafeFileHandle current;
        try
        {
            current = File.OpenHandle(CurrentOf(id), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        using (current)
        {
            if (RandomAccess.GetLength(current) < RotateAt) return false;
            var rotated = RotatedOf(id);
            var temporary = rotated + ".tmp";
            var buffer = new byte[81920];
            var from = StartOfNewest(current, buffer);
            using (var copy = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
            {
                var copied = from;
                for (var pass = 0; pass < CopyPasses; pass++)
                {
                    var end = RandomAccess.GetLength(current);
                    if (end <= copied) break;
                    while (copied < end)
                    {
                        var read = RandomAccess.Read(current, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - copied)), copied);
                        if (read == 0) break;
                        RandomAccess.Write(copy, buffer.AsSpan(0, read), copied - from);
                        copied += read;
                    }
                }
            }
            // A reader holding the previous .log.1 open keeps reading it: rename replaces the name, not the file.
            File.Move(temporary, rotated, overwrite: true);
            RandomAccess.SetLength(current, 0);
            state.Generation++;
            state.RotatedFrom = from;
            return true;
        }
    }

    /// <summary>
    /// Where the copy starts: 0, or when the log holds more than <see cref="RotateAt"/>, the first line start within its
    /// last <see cref="RotateAt"/> bytes (the cut itself when no newline is there).
    /// </summary>
    private long StartOfNewest(SafeFileHandle current, byte[] buffer)
    {
        var cut = RandomAccess.GetLength(current) - RotateAt;
        if (cut <= 0) return 0;
        for (var offset = cut - 1; offset < cut + RotateAt;)
        {
            var read = RandomAccess.Read(current, buffer, offset);
            if (read == 0) break;
            var newline = buffer.AsSpan(0, read).IndexOf((byte)'\n');
            if (newline >= 0) return offset + newline + 1;
            offset += read;
        }
        return cut;
    }

    /// <summary>Deletes an instance's log and its rotated generation.</summary>
    public void Delete(ProcessInstanceId id)
    {
        var state = StateOf(id);
        lock (state.Gate)
        {
            File.Delete(CurrentOf(id));
            File.Delete(RotatedOf(id));
            File.Delete(RotatedOf(id) + ".tmp");
        }
        _states.TryRemove(id, out _);
    }

    /// <summary>Per instance: the lock that orders rotations and reads, and how many rotations this agent has made.</summary>
    internal sealed class LogState
    {
        public Lock Gate { get; } = new();

        /// <summary>Rotations so far; changed only under <see cref="Gate"/>.</summary>
        public int Generation { get; set; }

        /// <summary>Where in the log the last rotation's copy began: offset 0 of <c>.log.1</c> was this offset of the log.</summary>
        public long RotatedFrom { get; set; }
    }
}
