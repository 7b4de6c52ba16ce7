using System.Net;
using System.Net.Sockets;
using NetMQ;

namespace Motey.Host.Peers;

/// <summary>Endpoints and binding, shared by everything in this folder.</summary>
internal static class PeerSockets
{
    /// <summary>Largest message a bound socket accepts; a peer that sends more is disconnected (and its request times out).</summary>
    public const long MaxMessageBytes = 16 * 1024 * 1024;

    private static readonly TimeSpan ReleaseWait = TimeSpan.FromSeconds(2);

    /// <summary><c>tcp://address:port</c>, with an IPv6 address in brackets.</summary>
    public static string Tcp(string address, int port) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            ? $"tcp://[{address}]:{port}"
            : $"tcp://{address}:{port}";

    /// <summary>Binds <paramref name="socket"/>, or disposes it and throws a <see cref="PeerBindException"/> that names the endpoint and why.</summary>
    public static void Bind(NetMQSocket socket, string endpoint, string what)
    {
        try
        {
            socket.Bind(endpoint);
        }
        catch (Exception e) when (e is NetMQException or SocketException or ArgumentException)
        {
            socket.Dispose();
            var reason = e switch
            {
                AddressAlreadyInUseException => "the address is already in use (another agent or program listens there)",
                NetMQException { ErrorCode: ErrorCode.AddressNotAvailable } => "the address is not one of this host's addresses",
                NetMQException n when n.Message.StartsWith("Exception of type", StringComparison.Ordinal) => n.ErrorCode.ToString(),
                _ => e.Message,
            };
            throw new PeerBindException($"cannot bind the {what} on {endpoint}: {reason}", e);
        }
    }

    /// <summary>
    /// NetMQ closes a listener on its I/O thread after the socket is disposed, a few milliseconds later. Waiting for
    /// that here means a node stopped in this process can be started again on the same endpoint at once.
    /// </summary>
    public static async Task WaitUntilReleasedAsync(string endpoint)
    {
        if (ListenAddress(endpoint) is not { } local) return;
        var deadline = DateTime.UtcNow + ReleaseWait;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(local);
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                await Task.Delay(5);
            }
            catch (SocketException)
            {
                return;  // not ours to judge: the next bind reports it
            }
        }
    }

    private static IPEndPoint? ListenAddress(string endpoint)
    {
        if (!endpoint.StartsWith("tcp://", StringComparison.Ordinal)) return null;
        var hostPort = endpoint["tcp://".Length..];
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], out var port) || port is <= 0 or > 65535) return null;
        var host = hostPort[..colon].Trim('[', ']');
        if (host == "*") return new IPEndPoint(IPAddress.Any, port);
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : null;
    }
}
