using Microsoft.Extensions.Logging;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Events;

/// <summary>
/// Capability events: each write (REST, capability events, the plugin catalog's engines) is compared with the list
/// before it, and every capability that appeared or went is published, in the order of the writes. A failure to
/// publish is logged, never thrown into the writer.
/// </summary>
public sealed class EventingCapabilityStore(ICapabilityStore inner, EventHub hub, ILogger<EventingCapabilityStore> log) : ICapabilityStore, IDisposable
{
    private readonly SemaphoreSlim _writes = new(1, 1);

    public Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default) => inner.AllAsync(cancellationToken);

    public Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default) =>
        WriteAsync(() => inner.AddAsync(capabilities, cancellationToken), cancellationToken);

    public Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default) =>
        WriteAsync(() => inner.RemoveAsync(capabilities, cancellationToken), cancellationToken);

    public Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken = default) =>
        WriteAsync(() => inner.ApplyAsync(changes, cancellationToken), cancellationToken);

    public Task<CapabilityReplacement> ReplaceAsync(Capability capability, CancellationToken cancellationToken = default) =>
        WriteAsync(() => inner.ReplaceAsync(capability, cancellationToken), cancellationToken);

    public Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default) =>
        WriteAsync(() => inner.RemoveAllOfTypeAsync(type, cancellationToken), cancellationToken);

    private async Task<T> WriteAsync<T>(Func<Task<T>> write, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            var before = await inner.AllAsync(cancellationToken);
            var result = await write();
            try
            {
                // Read after the write even when the caller gave up meanwhile: what was stored is told.
                var after = await inner.AllAsync(CancellationToken.None);
                var was = before.ToHashSet();
                var now = after.ToHashSet();
                foreach (var gone in before.Where(c => !now.Contains(c))) hub.CapabilityChanged(gone, added: false);
                foreach (var came in after.Where(c => !was.Contains(c))) hub.CapabilityChanged(came, added: true);
            }
            catch (Exception e)
            {
                log.LogError(e, "Capability events were not published: {Error}", e.Message);
            }
            return result;
        }
        finally
        {
            _writes.Release();
        }
    }

    public void Dispose() => _writes.Dispose();
}
