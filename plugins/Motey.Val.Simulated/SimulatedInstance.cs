using Motey.Abstractions;

namespace Motey.Val.Simulated;

/// <summary>
/// One simulated instance. Its state follows from when it was started (wall-clock time, so that a record read back by
/// another version of the VAL or after a restart means the same), so nothing needs a timer.
/// </summary>
internal sealed class SimulatedInstance(
    string id, string imageName, IReadOnlyDictionary<string, string> labels, TimeSpan startDelay, bool? fail, TimeSpan logInterval)
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _startedAt;
    private bool _fails;
    private bool _stopped;

    public string Id { get; } = id;
    public string ImageName { get; } = imageName;
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;
    public DateTimeOffset CreatedAt { get; private init; } = DateTimeOffset.UtcNow;

    /// <summary>What the instance prints.</summary>
    public SimulatedOutput Output { get; } = new(id, imageName, logInterval);

    /// <summary>
    /// Starts a created, stopped or failed instance; a started one is left alone.
    /// <paramref name="rollFailure"/> is asked only when the blueprint did not say whether it fails.
    /// </summary>
    public void Start(Func<bool> rollFailure)
    {
        lock (_gate)
        {
            var state = StateNow();
            if (state is ImageState.Instantiating or ImageState.Running) return;
            _startedAt = DateTimeOffset.UtcNow;
            _stopped = false;
            _fails = fail ?? rollFailure();
            Output.Started(startDelay, _fails);
        }
    }

    /// <summary>Stopping is instant: the instance is terminated at once.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            Output.Stopped();
        }
    }

    public ImageState State
    {
        get { lock (_gate) return StateNow(); }
    }

    /// <summary>Initial until started, Instantiating for the start delay, then Running or Error; Terminated once stopped.</summary>
    private ImageState StateNow()
    {
        if (_stopped) return ImageState.Terminated;
        if (_startedAt is not { } started) return ImageState.Initial;
        if (DateTimeOffset.UtcNow - started < startDelay) return ImageState.Instantiating;
        return _fails ? ImageState.Error : ImageState.Running;
    }

    /// <summary>What is kept in the VAL's data folder: enough to rebuild the instance as it is.</summary>
    public SimulatedRecord Record()
    {
        lock (_gate)
            return new SimulatedRecord(Id, ImageName, new Dictionary<string, string>(Labels), startDelay.TotalMilliseconds, fail,
                logInterval.TotalMilliseconds, CreatedAt, _startedAt, _fails, _stopped);
    }

    /// <summary>The instance a record describes, in the same state; its output goes on from its start (the lines printed before are not kept).</summary>
    public static SimulatedInstance From(SimulatedRecord record)
    {
        var instance = new SimulatedInstance(record.Id, record.ImageName, record.Labels, TimeSpan.FromMilliseconds(record.StartDelayMs), record.Fail,
            TimeSpan.FromMilliseconds(record.LogIntervalMs)) { CreatedAt = record.CreatedAt };
        (instance._startedAt, instance._fails, instance._stopped) = (record.StartedAt, record.Fails, record.Stopped);
        if (record.StartedAt is { } started && !record.Stopped) instance.Output.Resumed(started, TimeSpan.FromMilliseconds(record.StartDelayMs), record.Fails);
        return instance;
    }

    /// <summary>Plausible figures that are the same for an id every time; zero unless running.</summary>
    public ValInstanceStatus Stats()
    {
        var state = State;
        var status = new ValInstanceStatus { Name = Id, ImageName = ImageName, CreatedAt = CreatedAt, Status = state };
        if (state != ImageState.Running) return status;
        var hash = StableHash(Id);
        return status with
        {
            UsedMemory = (8 + (long)(hash % 248)) * 1024 * 1024,          // 8 MiB .. 255 MiB
            UsedCpu = 0.1 + (hash >> 16) % 250 / 10.0,                     // 0.1 % .. 25 %
            NetworkTxBytes = (long)((hash >> 24) % 50_000_000),
            NetworkRxBytes = (long)((hash >> 40) % 50_000_000),
        };
    }

    /// <summary>FNV-1a: string.GetHashCode differs per process, and benchmarks compare runs.</summary>
    private static ulong StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>A simulated instance as its file in the VAL's data folder keeps it (JSON, one file per instance).</summary>
internal sealed record SimulatedRecord(
    string Id, string ImageName, Dictionary<string, string> Labels, double StartDelayMs, bool? Fail, double LogIntervalMs,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, bool Fails, bool Stopped);
