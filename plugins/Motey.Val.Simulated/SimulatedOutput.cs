using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Motey.Abstractions;

namespace Motey.Val.Simulated;

/// <summary>
/// What a simulated instance prints: "starting" when started, "running" (or "failed", on standard error) once its start
/// delay has passed, then a line every log interval while it runs, and "stopped". Like the instance's state, the lines
/// follow from the clock: the ones due are written when someone reads, so an instance nobody reads costs no timer.
/// Only the last <see cref="MaxLines"/> are kept.
/// </summary>
internal sealed class SimulatedOutput(string id, string imageName, TimeSpan interval)
{
    /// <summary>Lines kept per instance; older ones are forgotten.</summary>
    public const int MaxLines = 1_000;

    private readonly Lock _gate = new();
    private readonly Queue<(long Seq, LogLine Line)> _lines = new();
    private long _nextSeq;
    private TaskCompletionSource _changed = NewSignal();

    // The current run, from Started to Stopped.
    private bool _running;
    private long _startTimestamp;
    private DateTimeOffset _startTime;
    private TimeSpan _delay;
    private bool _fails;
    private bool _announced;
    private long _ticks;
    private bool _ended;  // stopped, failed or removed: a follower stops here

    /// <summary>The instance was started (again): it prints "starting" now.</summary>
    public void Started(TimeSpan delay, bool fails)
    {
        lock (_gate)
        {
            (_running, _startTimestamp, _startTime, _delay, _fails, _announced, _ticks, _ended) =
                (true, Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow, delay, fails, false, 0, false);
            Add(_startTime, LogSource.Stdout, $"simulated instance {id} of {imageName} starting");
            Signal();
        }
    }

    /// <summary>
    /// A running instance read back from its record (by a new version of the VAL, or after a restart): the run goes on from
    /// <paramref name="startTime"/>, without a new "starting" line.
    /// </summary>
    public void Resumed(DateTimeOffset startTime, TimeSpan delay, bool fails)
    {
        lock (_gate)
        {
            var ago = (long)((DateTimeOffset.UtcNow - startTime).TotalSeconds * Stopwatch.Frequency);
            (_running, _startTimestamp, _startTime, _delay, _fails, _announced, _ticks, _ended) =
                (true, Stopwatch.GetTimestamp() - Math.Max(0, ago), startTime, delay, fails, false, 0, false);
        }
    }

    /// <summary>The instance was stopped: what was due is printed, then "stopped"; followers end.</summary>
    public void Stopped()
    {
        lock (_gate)
        {
            if (!_running) return;
            CatchUp();
            Add(DateTimeOffset.UtcNow, LogSource.Stdout, $"simulated instance {id} of {imageName} stopped");
            _running = false;
            _ended = true;
            Signal();
        }
    }

    /// <summary>The instance was removed: followers end.</summary>
    public void Removed()
    {
        lock (_gate)
        {
            _ended = true;
            Signal();
        }
    }

    /// <summary>The kept lines (the last <see cref="LogRequest.Tail"/> of them), then, following, new ones until the instance ends.</summary>
    public async IAsyncEnumerable<LogLine> ReadAsync(LogRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<LogLine> lines;
        long seen;
        lock (_gate)
        {
            CatchUp();
            var skip = request.Tail is { } tail ? Math.Max(0, _lines.Count - tail) : 0;
            lines = _lines.Skip(skip).Select(l => l.Line).ToList();
            seen = _nextSeq;
        }
        foreach (var line in lines) yield return line;
        if (!request.Follow) yield break;
        while (true)
        {
            Task changed;
            TimeSpan wait;
            bool ended;
            lock (_gate)
            {
                CatchUp();
                lines = _lines.Where(l => l.Seq >= seen).Select(l => l.Line).ToList();
                seen = _nextSeq;
                ended = _ended;
                changed = _changed.Task;
                wait = UntilNextLine();
            }
            foreach (var line in lines) yield return line;
            if (ended) yield break;
            using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(changed, Task.Delay(wait, pause.Token));
            await pause.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Writes the lines that are due by now (under the lock).</summary>
    private void CatchUp()
    {
        if (!_running || _ended) return;
        var elapsed = Stopwatch.GetElapsedTime(_startTimestamp);
        if (elapsed < _delay) return;
        var runningSince = _startTime + _delay;
        if (!_announced)
        {
            _announced = true;
            if (_fails)
            {
                Add(runningSince, LogSource.Stderr, $"simulated instance {id} of {imageName} failed");
                _running = false;
                _ended = true;
                Signal();
                return;
            }
            Add(runningSince, LogSource.Stdout, $"simulated instance {id} of {imageName} running");
        }
        var due = (long)((elapsed - _delay) / interval);
        // Only the last MaxLines can be kept: ones that would be forgotten at once are not written.
        _ticks = Math.Max(_ticks, due - MaxLines);
        while (_ticks < due)
        {
            _ticks++;
            Add(runningSince + interval * _ticks, LogSource.Stdout,
                string.Create(CultureInfo.InvariantCulture, $"simulated instance {id} of {imageName}: line {_ticks}"));
        }
    }

    /// <summary>How long until the next line is due; infinite when none is due before something changes (under the lock).</summary>
    private TimeSpan UntilNextLine()
    {
        if (!_running || _ended) return Timeout.InfiniteTimeSpan;
        var elapsed = Stopwatch.GetElapsedTime(_startTimestamp);
        var next = _announced ? _delay + interval * (_ticks + 1) : _delay;
        return next > elapsed ? next - elapsed : TimeSpan.Zero;
    }

    private void Add(DateTimeOffset time, LogSource source, string text)
    {
        _lines.Enqueue((_nextSeq++, new LogLine(time, source, text)));
        while (_lines.Count > MaxLines) _lines.Dequeue();
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
