using Motey.Host.Core.Membership;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>A peer directory whose members a test adds and removes (as membership would when nodes join and leave).</summary>
internal sealed class FakeDirectory(IEnumerable<INodeClient> peers, INodeClient? local = null) : IPeerDirectory
{
    private readonly List<INodeClient> _peers = [.. peers];
    private readonly Lock _gate = new();

    public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<INodeClient>>(_peers.OrderBy(p => p.Address, StringComparer.Ordinal).ToList());
    }

    public INodeClient? Find(string address)
    {
        if (local?.Address == address) return local;
        lock (_gate) return _peers.FirstOrDefault(p => p.Address == address);
    }

    public void Add(INodeClient peer)
    {
        lock (_gate) _peers.Add(peer);
    }

    public void Remove(string address)
    {
        lock (_gate) _peers.RemoveAll(p => p.Address == address);
    }
}
