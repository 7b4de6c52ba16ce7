namespace Motey.Host.Core.Nodes;

/// <summary>
/// This node could not send a request to another node for a reason of its own (no connection could be opened within
/// the request's timeout: its connection or socket limit was reached). It says nothing about the other node: placement
/// neither counts that node as silent nor concludes that it cannot run an image. The message names both nodes and the limit.
/// </summary>
public sealed class LocalRequestException(string message, Exception? inner = null) : Exception(message, inner);
