using System.Net;
using System.Net.Sockets;

namespace Motey.Tests.Shared;

/// <summary>TCP ports for agents the tests start as processes, which must be told their port in config.ini.</summary>
internal static class Ports
{
    /// <summary>A port free on <paramref name="address"/> right now: the one the system hands a listener on port 0.</summary>
    public static int Free(string address)
    {
        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
