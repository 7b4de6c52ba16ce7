using Motey.Abstractions;

namespace Motey.Val.Sample;

/// <summary>
/// The in-memory stand-in for an instance of the sample engine: Initial when created, Running once started,
/// Terminated with exit code 0 once stopped; a stopped instance can start again. Thread-safe.
/// </summary>
/// <remarks>TODO(engine): once <see cref="SampleVal"/> asks the engine, the engine keeps this state and this class goes.</remarks>
internal sealed class SampleInstance(string id, string imageName, IReadOnlyDictionary<string, string> labels)
{
    private readonly Lock _gate = new();
    private ImageState _state = ImageState.Initial;
    private int? _exitCode;

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
        }
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
