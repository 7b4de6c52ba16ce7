using System.Collections.Concurrent;

namespace Motey.Host.Core.Orchestration;

/// <summary>
/// What the orchestrator's parts tell each other about a service between their turns: a termination was asked for
/// (deploys and restarts stop), and which ended instances are to be replaced when. Forgotten when the service ends.
/// </summary>
public sealed class ServiceIntents(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, bool> _terminations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string ServiceId, int Index), DateTimeOffset> _restartsDue = new();

    /// <summary>How many services and image replacements are remembered now.</summary>
    public int Count => _terminations.Count + _restartsDue.Count;

    /// <summary>From now on nothing of the service is deployed or replaced.</summary>
    public void RequestTermination(string serviceId) => _terminations[serviceId] = true;

    /// <summary>Whether the service is being terminated.</summary>
    public bool TerminationRequested(string serviceId) => _terminations.ContainsKey(serviceId);

    /// <summary>The image's ended instance is to be replaced once <paramref name="delay"/> has passed.</summary>
    public void ScheduleRestart(string serviceId, int index, TimeSpan delay) =>
        _restartsDue[(serviceId, index)] = clock.GetUtcNow() + delay;

    /// <summary>Where the image's replacement stands; <see cref="Restart.Due"/> is answered once, and the replacement is then the caller's.</summary>
    public Restart TakeRestart(string serviceId, int index)
    {
        if (!_restartsDue.TryGetValue((serviceId, index), out var due)) return Restart.None;
        if (clock.GetUtcNow() < due || TerminationRequested(serviceId)) return Restart.Waiting;
        return _restartsDue.TryRemove(new KeyValuePair<(string, int), DateTimeOffset>((serviceId, index), due)) ? Restart.Due : Restart.Waiting;
    }

    /// <summary>The image is not to be replaced any more.</summary>
    public void CancelRestart(string serviceId, int index) => _restartsDue.TryRemove((serviceId, index), out _);

    /// <summary>The service was terminated: nothing about it is remembered.</summary>
    public void Forget(string serviceId)
    {
        _terminations.TryRemove(serviceId, out _);
        foreach (var key in _restartsDue.Keys.Where(k => k.ServiceId == serviceId)) _restartsDue.TryRemove(key, out _);
    }
}

/// <summary>Where the replacement of an ended instance stands.</summary>
public enum Restart
{
    /// <summary>No replacement is pending: the instance is followed as usual.</summary>
    None,
    /// <summary>A replacement is pending, not due yet (or the service is being terminated).</summary>
    Waiting,
    /// <summary>The replacement is due now.</summary>
    Due,
}
