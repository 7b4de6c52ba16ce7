using Motey.Host.Core.Membership;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Peers;

namespace Motey.Host.Membership;

/// <summary>Remote nodes are reached over ZeroMQ.</summary>
internal sealed class ZeroMqRemoteNodes(ZeroMqPeers peers) : IRemoteNodeFactory
{
    public INodeClient For(string address) => peers.For(address);
}
