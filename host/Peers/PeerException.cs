namespace Motey.Host.Peers;

/// <summary>A peer node failed a request, or answered something this node cannot use. The message names the node.</summary>
internal class PeerException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A peer node did not answer within the request's timeout; its socket was discarded.</summary>
internal sealed class PeerTimeoutException(string message) : PeerException(message);

/// <summary>A ZeroMQ endpoint of this node could not be bound (an I/O failure, like Kestrel's). The message names the endpoint and why.</summary>
internal sealed class PeerBindException(string message, Exception? inner = null) : IOException(message, inner);
