using System.Diagnostics;
using Motey.Abstractions;

namespace Motey.Val.Simulated;

/// <summary>One simulated instance. Its state follows from when it was started, so nothing needs a timer.</summary>
internal sealed class SimulatedInstance(
    string id, string imageName, IReadOnlyDictionary<string, string> labels, TimeSpan startDelay, bool? fail, TimeSpan logInterval)
{
    private readonly Lock _gate = new();
    private long? _startedTimestamp;
    private bool _fails;
    private bool _stopped;

    public string Id { get; } = id;
    public string ImageName { get; } = imageName;
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;
    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;

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
            _startedTimestamp = Stopwatch.GetTimestamp();
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
        if (_startedTimestamp is not { } started) return ImageState.Initial;
        if (Stopwatch.GetElapsedTime(started) < startDelay) return ImageState.Instantiating;
        return _fails ? ImageState.Error : ImageState.Running;
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
