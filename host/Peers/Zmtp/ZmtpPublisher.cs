using System.Net.Sockets;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// Publishes one message to a SUB bound on an ipc endpoint (this agent's listener, or any libzmq/pyzmq SUB) as an XPUB:
/// it connects, completes the handshake, waits until the subscriber's subscription covers the message, sends it and
/// closes. Waiting for the subscription instead of sleeping is what solves the slow-joiner race (a PUB drops what it
/// sends before the subscription has arrived); the message is in the kernel's socket buffer when this returns, and the
/// subscriber reads it even after we closed.
/// </summary>
internal static class ZmtpPublisher
{
    public enum FailureKind
    {
        /// <summary>No socket file, or nothing listens on it: no agent runs there.</summary>
        NoListener,
        /// <summary>Something accepted the connection but no subscription came in time.</summary>
        NoSubscription,
        /// <summary>Anything else: no permission, not ZMTP, a broken connection.</summary>
        Other,
    }

    /// <summary>What went wrong, in words for the user.</summary>
    public sealed record Failure(string Problem, FailureKind Kind);

    /// <summary>Null when sent; otherwise what went wrong.</summary>
    public static async Task<Failure?> PublishAsync(string endpoint, byte[] message, long maxMessageBytes, TimeSpan wait)
    {
        string path;
        try
        {
            path = IpcEndpoint.PathOf(endpoint);
        }
        catch (FormatException e)
        {
            return new Failure(e.Message, FailureKind.Other);
        }
        using var deadline = new CancellationTokenSource(wait);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), deadline.Token);
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable => new Failure($"there is no socket file {path}", FailureKind.NoListener),
                SocketError.ConnectionRefused => new Failure($"nothing listens on {path} (a socket file left by a process that was killed, "
                    + "or not a socket)", FailureKind.NoListener),
                SocketError.AccessDenied => new Failure($"this user may not connect to {path}: publishers need write permission on it "
                    + "(run as the agent's user or a member of its group)", FailureKind.Other),
                _ => new Failure(e.Message, FailureKind.Other),
            };
        }
        catch (OperationCanceledException)
        {
            return new Failure($"{path} did not accept the connection", FailureKind.NoSubscription);
        }
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            var connection = await ZmtpConnection.OpenAsync(stream, ZmtpConnection.XPub, connected: true, maxMessageBytes, deadline.Token);
            while (await connection.ReceiveAsync(deadline.Token) is { } incoming)
            {
                if (incoming is ZmtpSubscription { Subscribe: true } subscription && message.AsSpan().StartsWith(subscription.Topic))
                {
                    await connection.SendAsync([message], deadline.Token);
                    return null;
                }
            }
            return new Failure("the subscriber closed the connection before it subscribed", FailureKind.NoSubscription);
        }
        catch (OperationCanceledException)
        {
            return new Failure("no subscription arrived", FailureKind.NoSubscription);
        }
        catch (Exception e) when (e is ZmtpProtocolException or EndOfStreamException)
        {
            return new Failure($"it does not speak ZMTP 3 pub/sub as expected: {e.Message}", FailureKind.Other);
        }
        catch (IOException e)
        {
            return new Failure(e.Message, FailureKind.Other);
        }
    }
}
