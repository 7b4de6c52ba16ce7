using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>Capabilities in memory, as the SQLite store keeps them: a set of (name, type), changes all or none.</summary>
internal sealed class InMemoryCapabilityStore(params Capability[] initial) : ICapabilityStore
{
    private readonly Lock _gate = new();
    private HashSet<Capability> _all = [.. initial];

    public Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<Capability>>(_all.OrderBy(c => c.Type, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ToList());
    }

    public Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(Add(_all, capabilities));
    }

    public Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(capabilities.Count(_all.Remove));
    }

    public Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var next = _all.ToHashSet();
            var counts = changes.Select(c => c.IsAdd ? Add(next, c.List) : c.List.Count(next.Remove)).ToArray();
            _all = next;
            return Task.FromResult(counts);
        }
    }

    public Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_all.RemoveWhere(c => c.Type == type));
    }

    private static int Add(HashSet<Capability> set, IEnumerable<Capability> capabilities) => capabilities.Count(set.Add);
}
