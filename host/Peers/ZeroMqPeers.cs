using Motey.Host.Configuration;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Peers;

/// <summary>
/// The seed's CommunicationManager, per node: the client for a node by address. This node itself is reached
/// in-process; every other address over ZeroMQ, through one shared <see cref="PeerRequester"/>. Every answer a peer
/// gives is told to <paramref name="answers"/> (its last-seen time), when given. With [ZEROMQ] cluster_key every request
/// (placement, deploy, status, terminate, the direct peer checks and the fence) goes out as a CURVE client of that key.
/// <paramref name="clusterSize"/> (how many peers this node knows) lets the requester keep a connection to every
/// endpoint of every peer instead of a fixed 256, so contacting one more peer does not close the ones placement uses.
/// </summary>
internal sealed class ZeroMqPeers(
    NodeIdentity identity, LocalNode local, MoteySettings settings, PeerAnswers? answers = null, IMoteyMetrics? metrics = null,
    Func<int>? clusterSize = null) : IDisposable
{
    private readonly PeerRequester _requester = new(ClusterKey.ReadConfigured(settings.ZeroMq), clusterSize);

    /// <summary>The local node for this node's own address, else a ZeroMQ client for <paramref name="address"/> (cheap: create one per use if you like).</summary>
    public INodeClient For(string address) =>
        address == identity.Address ? local : Remote(address);

    /// <summary>A ZeroMQ client for <paramref name="address"/>, for what only a remote node is asked over the wire (its status).</summary>
    public ZeroMqNodeClient Remote(string address) => new(address, settings.ZeroMq, _requester, answers, metrics);

    public void Dispose() => _requester.Dispose();
}
