using Motey.Abstractions;

namespace Motey.Host.Orchestration;

/// <summary>
/// How the orchestrator reaches one node (the seed's CommunicationManager, per node): the local node
/// in-process, a remote node over its peer transport. The orchestrator never knows which.
/// </summary>
internal interface INodeClient
{
    /// <summary>Address of the node.</summary>
    string Address { get; }

    Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken);

    /// <summary>Creates and starts an instance of the image on the node; returns its instance id. Throws with the reason on failure.</summary>
    Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken);

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
}

/// <summary>The nodes the orchestrator may place images on, besides the local one.</summary>
internal interface IPeerDirectory
{
    /// <summary>Clients for the known remote nodes (not the local node).</summary>
    Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken);

    /// <summary>The client for a node by address, local or remote; null when the node is unknown.</summary>
    INodeClient? Find(string address);
}
