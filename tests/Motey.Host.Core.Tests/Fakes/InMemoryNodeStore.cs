using Motey.Host.Core.Membership;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>The nodes table in memory, last-seen times from the test's clock.</summary>
internal sealed class InMemoryNodeStore(TimeProvider clock) : INodeStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NodeRecord> _nodes = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<NodeRecord>> AllAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<NodeRecord>>(_nodes.Values.OrderByDescending(n => n.IsSelf).ThenBy(n => n.Address, StringComparer.Ordinal).ToList());
    }

    public Task<bool> UpsertAsync(string address, bool isSelf = false, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var added = !_nodes.ContainsKey(address);
            _nodes[address] = new NodeRecord(address, isSelf, clock.GetUtcNow());
            return Task.FromResult(added);
        }
    }

    public Task<bool> RemoveAsync(string address, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_nodes.Remove(address));
    }

    public Task ClearAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) _nodes.Clear();
        return Task.CompletedTask;
    }
}
