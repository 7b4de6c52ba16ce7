using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Membership;

/// <summary>The nodes the orchestrator may place images on, besides the local one.</summary>
public interface IPeerDirectory
{
    /// <summary>Clients for the known remote nodes (not the local node), in address order.</summary>
    Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken);

    /// <summary>The client for a node by address, local or remote; null when the node is unknown.</summary>
    INodeClient? Find(string address);
}

/// <summary>Makes the client for a remote node (ZeroMQ in production).</summary>
public interface IRemoteNodeFactory
{
    /// <summary>The client for the remote node at <paramref name="address"/>.</summary>
    INodeClient For(string address);
}
