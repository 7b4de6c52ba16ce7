namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// The peer broke ZMTP (a greeting, frame or command that the specification does not allow, or one over our limits).
/// The message says what, in words fit for the log; the connection that raised it is closed, nothing else.
/// </summary>
internal sealed class ZmtpProtocolException(string message) : Exception(message);
