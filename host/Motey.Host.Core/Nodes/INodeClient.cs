using Motey.Abstractions;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Nodes;

/// <summary>
/// How the orchestrator reaches one node (the seed's CommunicationManager, per node): the local node
/// in-process, a remote node over its peer transport. The orchestrator never knows which.
/// </summary>
public interface INodeClient
{
    /// <summary>Address of the node.</summary>
    string Address { get; }

    /// <summary>Every capability the node offers, its engines as capabilities of type <c>plugin</c>.</summary>
    Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Said when the node is about to be asked for a deploy (placement is confirming it as the image's node): a remote
    /// node opens the connections the deploy and the state requests use now, so their handshakes run during the
    /// confirmation instead of after it. Never fails; nothing is sent. The local node has nothing to prepare.
    /// </summary>
    void PrepareDeploy()
    {
    }

    /// <summary>
    /// The capabilities request as a direct check (is the node alive?), for a node this node may not ask again soon: a
    /// remote node's connection is not kept for it. Throws when the node cannot be reached.
    /// </summary>
    Task<IReadOnlyList<Capability>> CheckAsync(CancellationToken cancellationToken) => GetCapabilitiesAsync(cancellationToken);

    /// <summary>Creates and starts an instance of the image on the node; returns its instance id. Throws with the reason on failure.</summary>
    Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken);

    /// <summary>State of the image's instance; <see cref="ImageState.Terminated"/> when it no longer exists.</summary>
    Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken);

    /// <summary>Exit code of the image's ended instance; null when unknown.</summary>
    Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken);

    /// <summary>
    /// Stops and removes instances carrying these labels: what a deploy cut short (engine gone, agent killed)
    /// created without the agent learning the id. Nodes reached over a protocol without it do nothing.
    /// </summary>
    Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken);

    /// <summary>Stops and removes the image's instance.</summary>
    Task TerminateImageAsync(Image image, CancellationToken cancellationToken);

    /// <summary>
    /// Asks this node, as the node that placed them, whether the instances <paramref name="holder"/> runs are still
    /// its (see <see cref="InstanceFence"/>). Null when the node has no opinion (an original node). Throws when it
    /// cannot be reached.
    /// </summary>
    Task<IReadOnlyList<FenceVerdict>?> ConfirmInstancesAsync(string holder, IReadOnlyList<HeldInstance> held, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<FenceVerdict>?>(null);

    /// <summary>
    /// Opens the output of the image's instance. The task ends once the node has opened it, so what fails at once fails
    /// here: <see cref="NotSupportedException"/> when the engine (or the node) does not provide logs,
    /// <see cref="NoInstanceException"/> when the instance is not there or is not that image's; anything else when the
    /// node or its engine failed. The lines come from the enumeration, which ends when they are read (or, following,
    /// when the instance ends) and may still throw when the engine fails later. Nodes without logs keep the default.
    /// </summary>
    Task<IAsyncEnumerable<LogLine>> ReadLogsAsync(LogTarget target, LogRequest request, CancellationToken cancellationToken) =>
        Task.FromException<IAsyncEnumerable<LogLine>>(new NotSupportedException($"node {Address} does not serve instance logs"));
}

/// <summary>The node was asked about something, then left the cluster before it answered.</summary>
public sealed class NodeLeftException(string message) : Exception(message);
