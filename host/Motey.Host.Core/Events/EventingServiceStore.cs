using Microsoft.Extensions.Logging;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Events;

/// <summary>
/// The one source of service and image events: every write of every part (orchestrator, deployer, reconciler,
/// terminator) goes through this store, which compares the version written with the one before and publishes what
/// changed, in the order of the writes (they are serialised here, as the database serialises them anyway). A failure
/// to publish is logged, never thrown into the writer. It also counts restarts (an image's restarts grew).
/// </summary>
public sealed class EventingServiceStore(IServiceStore inner, EventHub hub, IMoteyMetrics metrics, ILogger<EventingServiceStore> log) : IServiceStore, IDisposable
{
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly Dictionary<string, Service> _last = new(StringComparer.Ordinal);  // under _writes

    public Task<IReadOnlyList<Service>> AllAsync(CancellationToken cancellationToken = default) => inner.AllAsync(cancellationToken);

    public Task<Service?> GetAsync(string id, CancellationToken cancellationToken = default) => inner.GetAsync(id, cancellationToken);

    // The mark is not part of the service's document: nothing to publish.
    public Task MarkTerminationAsync(string id, CancellationToken cancellationToken = default) => inner.MarkTerminationAsync(id, cancellationToken);

    public Task<IReadOnlySet<string>> TerminationsAsync(CancellationToken cancellationToken = default) => inner.TerminationsAsync(cancellationToken);

    public async Task AddAsync(Service service, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            await inner.AddAsync(service, cancellationToken);
            _last[service.Id] = service;
            Tell(() =>
            {
                hub.ServiceChanged(service, "accepted");
                for (var i = 0; i < service.Images.Count; i++) hub.ImageChanged(service, i);
            }, service.Id);
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<bool> UpdateAsync(Service service, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            // The version before: kept from the last write, or read once per service after a start.
            if (!_last.TryGetValue(service.Id, out var before)) before = await inner.GetAsync(service.Id, cancellationToken);
            var updated = await inner.UpdateAsync(service, cancellationToken);
            if (!updated) return false;
            _last[service.Id] = service;
            Tell(() => PublishChanges(before, service), service.Id);
            return true;
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<bool> RemoveAsync(string id, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            if (!_last.Remove(id, out var before)) before = await inner.GetAsync(id, cancellationToken);
            var removed = await inner.RemoveAsync(id, cancellationToken);
            if (removed && before is not null) Tell(() => hub.ServiceChanged(before, "removed"), id);
            return removed;
        }
        finally
        {
            _writes.Release();
        }
    }

    private void PublishChanges(Service? before, Service after)
    {
        for (var i = 0; i < after.Images.Count; i++)
        {
            var image = after.Images[i];
            var old = before is not null && i < before.Images.Count ? before.Images[i] : null;
            if (old is not null && image.Restarts > old.Restarts) metrics.InstanceRestarted(image.Engine);
            if (old is null || old.State != image.State || old.Node != image.Node || old.Id != image.Id
                || old.StateMessage != image.StateMessage || old.Restarts != image.Restarts)
                hub.ImageChanged(after, i);
        }
        if (before is null || before.State != after.State || before.StateMessage != after.StateMessage)
            hub.ServiceChanged(after, "state");
    }

    private void Tell(Action publish, string serviceId)
    {
        try
        {
            publish();
        }
        catch (Exception e)
        {
            // The write is stored: an event that could not be made must not fail it.
            log.LogError(e, "Events of service {ServiceId} were not published: {Error}", serviceId, e.Message);
        }
    }

    public void Dispose() => _writes.Dispose();
}
