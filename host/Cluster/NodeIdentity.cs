using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Motey.Host.Configuration;

namespace Motey.Host.Cluster;

/// <summary>How this node names itself to the cluster (the seed's get_own_ip, but configurable).</summary>
internal sealed record NodeIdentity(string Address)
{
    /// <summary>[GENERAL] address when set; else the web server's address unless it listens on all interfaces; else the first non-loopback IPv4 address.</summary>
    public static NodeIdentity From(MoteySettings settings)
    {
        if (settings.General.Address.Length > 0) return new NodeIdentity(settings.General.Address);
        var ip = IPAddress.Parse(settings.WebServer.Ip);
        if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)) return new NodeIdentity(settings.WebServer.Ip);
        var detected = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new NodeIdentity(detected?.ToString() ?? "127.0.0.1");
    }
}
