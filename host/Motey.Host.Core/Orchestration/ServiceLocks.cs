namespace Motey.Host.Core.Orchestration;

/// <summary>
/// Serialises the work on one service; different services proceed in parallel. A service's lock exists only while
/// someone holds or waits for it, so the table holds the services being worked on, not every service ever seen.
/// </summary>
public sealed class ServiceLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>How many services are held or waited for now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _entries.Count;
        }
    }

    /// <summary>Waits for the service's lock; disposing the result releases it.</summary>
    public async Task<IDisposable> AcquireAsync(string serviceId, CancellationToken cancellationToken)
    {
        var entry = Reference(serviceId);
        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Unreference(serviceId, entry);
            throw;
        }
        return new Held(this, serviceId, entry);
    }

    /// <summary>The service's lock when it is free now; null when someone else works on the service.</summary>
    public IDisposable? TryAcquire(string serviceId)
    {
        var entry = Reference(serviceId);
        if (entry.Gate.Wait(0)) return new Held(this, serviceId, entry);
        Unreference(serviceId, entry);
        return null;
    }

    private Entry Reference(string serviceId)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(serviceId, out var entry)) _entries[serviceId] = entry = new Entry();
            entry.Users++;
            return entry;
        }
    }

    private void Unreference(string serviceId, Entry entry)
    {
        lock (_gate)
        {
            if (--entry.Users != 0) return;
            // Nobody holds or waits for it any more: it goes, and the next worker on the service makes a new one.
            _entries.Remove(serviceId);
            entry.Dispose();
        }
    }

    private sealed class Entry : IDisposable
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Users;

        public void Dispose() => Gate.Dispose();
    }

    private sealed class Held(ServiceLocks owner, string serviceId, Entry entry) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            entry.Gate.Release();
            owner.Unreference(serviceId, entry);
        }
    }
}
