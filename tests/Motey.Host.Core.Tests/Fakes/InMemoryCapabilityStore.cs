using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>Capabilities in memory, as the SQLite store keeps them: one entry per name, changes all or none.</summary>
internal sealed class InMemoryCapabilityStore : ICapabilityStore
{
    private readonly Lock _gate = new();
    private Dictionary<string, string> _all = new(StringComparer.Ordinal);

    /// <summary>Name → the type of the entry a replacement took over, given back when the replacement is removed.</summary>
    private Dictionary<string, string> _replaced = new(StringComparer.Ordinal);

    public InMemoryCapabilityStore(params Capability[] initial) => Add(_all, initial);

    public Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<Capability>>(_all.Select(e => new Capability(e.Key, e.Value))
                .OrderBy(c => c.Type, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ToList());
        }
    }

    public Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(Add(_all, capabilities));
    }

    public Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(Remove(_all, _replaced, capabilities));
    }

    public Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var next = new Dictionary<string, string>(_all, StringComparer.Ordinal);
            var replaced = new Dictionary<string, string>(_replaced, StringComparer.Ordinal);
            var counts = changes.Select(c => c.IsAdd ? Add(next, c.List) : Remove(next, replaced, c.List)).ToArray();
            (_all, _replaced) = (next, replaced);
            return Task.FromResult(counts);
        }
    }

    public Task<CapabilityReplacement> ReplaceAsync(Capability capability, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var had = _all.GetValueOrDefault(capability.Name);
            if (had == capability.Type) return Task.FromResult(new CapabilityReplacement(false, null));
            _all[capability.Name] = capability.Type;
            if (had is not null) _replaced[capability.Name] = had;
            return Task.FromResult(new CapabilityReplacement(true, had is null ? null : capability with { Type = had }));
        }
    }

    public Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var gone = _all.Where(e => e.Value == type).Select(e => new Capability(e.Key, e.Value)).ToList();
            return Task.FromResult(Remove(_all, _replaced, gone));
        }
    }

    private static int Add(Dictionary<string, string> all, IEnumerable<Capability> capabilities) =>
        capabilities.Count(c => all.TryAdd(c.Name, c.Type));

    private static int Remove(Dictionary<string, string> all, Dictionary<string, string> replaced, IEnumerable<Capability> capabilities)
    {
        var removed = 0;
        foreach (var c in capabilities)
        {
            if (all.TryGetValue(c.Name, out var type) && type == c.Type)
            {
                removed++;
                if (replaced.Remove(c.Name, out var before)) all[c.Name] = before;
                else all.Remove(c.Name);
            }
            else if (replaced.TryGetValue(c.Name, out var hidden) && hidden == c.Type)
            {
                removed++;
                replaced.Remove(c.Name);
            }
        }
        return removed;
    }
}
