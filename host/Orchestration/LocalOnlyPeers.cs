namespace Motey.Host.Orchestration;

/// <summary>The peer directory of a node that is alone: only itself. The cluster transport replaces it.</summary>
internal sealed class LocalOnlyPeers(LocalNode local) : IPeerDirectory
{
    public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<INodeClient>>([]);

    public INodeClient? Find(string address) => address == local.Address ? local : null;
}
