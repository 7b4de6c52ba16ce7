using Motey.Abstractions;

namespace Motey.Val.Sample;

/// <summary>
/// The in-memory stand-in for an instance of the sample engine: Initial when created, Running once started,
/// Terminated with exit code 0 once stopped; a stopped instance can start again. It prints a line when it starts and
/// when it stops, and keeps its last <see cref="MaxOutputLines"/> lines. Thread-safe.
/// </summary>
/// <remarks>TODO(engine): once <see cref="SampleVal"/> asks the engine, the engine keeps this state and this class goes.</remarks>
internal sealed class SampleInstance(string id, string imageName, IReadOnlyDictionary<string, string> labels)
{
    /// <summary>The most lines of output kept: memory stays bounded however long the instance runs.</summary>
    public const int MaxOutputLines = 1000;

    private readonly Lock _gate = new();
    private ImageState _state = ImageState.Initial;
    private int? _exitCode;
    private readonly Queue<LogLine> _output = new();
    private long _printed;
    private TaskCompletionSource _nextLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Id { get; } = id;
    public string ImageName { get; } = imageName;
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;
    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;

    public ImageState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>Whether the instance has ended (stopped or failed): the agent no longer counts it as running.</summary>
    public bool HasEnded => State is ImageState.Terminated or ImageState.Error;

    public void Start()
    {
        lock (_gate)
        {
            _state = ImageState.Running;
            _exitCode = null;
            Print($"{SampleVal.Engine} instance {Id} of {ImageName} running");
        }
    }

    public void Stop()
    {
        lock (_gate)
        {
            if (_state is ImageState.Terminated or ImageState.Error) return;
            // An instance that ran and was stopped on request ended well; one that never started has no exit code.
            _exitCode = _state == ImageState.Running ? 0 : null;
            _state = ImageState.Terminated;
            Print($"{SampleVal.Engine} instance {Id} stopped");
        }
    }

    /// <summary>
    /// The lines printed from line number <paramref name="from"/> on (0 = the first ever printed; lines no longer kept are
    /// skipped), the number of the line after them, whether the instance has ended, and a task that completes when the
    /// next line is printed: all read at one moment, so a follow misses no line between two calls.
    /// </summary>
    public (IReadOnlyList<LogLine> Lines, long Next, bool Ended, Task NextLine) Output(long from)
    {
        lock (_gate)
        {
            var first = _printed - _output.Count;
            var lines = _output.Skip((int)Math.Max(0, from - first)).ToList();
            return (lines, _printed, _state is ImageState.Terminated or ImageState.Error, _nextLine.Task);
        }
    }

    private void Print(string text)
    {
        _output.Enqueue(new LogLine(DateTimeOffset.UtcNow, LogSource.Stdout, text));
        if (_output.Count > MaxOutputLines) _output.Dequeue();
        _printed++;
        var printed = _nextLine;
        _nextLine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        printed.SetResult();
    }

    /// <summary>The instance as the agent sees it. The in-memory instance uses no memory, CPU or network.</summary>
    public ValInstanceStatus Status()
    {
        lock (_gate)
        {
            return new ValInstanceStatus
            {
                Name = Id,
                ImageName = ImageName,
                CreatedAt = CreatedAt,
                Status = _state,
                ExitCode = _exitCode,
            };
        }
    }
}
