using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Motey.Host.Core.Membership;

/// <summary>How this node names itself to the cluster (the seed's get_own_ip, but configurable).</summary>
public sealed record NodeIdentity(string Address)
{
    /// <summary>
    /// <paramref name="configured"/> ([GENERAL] address) when set; else <paramref name="listenIp"/> (the web server's
    /// address) unless it listens on all interfaces; else the first non-loopback IPv4 address.
    /// </summary>
    public static NodeIdentity From(string configured, string listenIp)
    {
        if (configured.Length > 0) return new NodeIdentity(configured);
        var ip = IPAddress.Parse(listenIp);
        if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)) return new NodeIdentity(listenIp);
        var detected = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new NodeIdentity(detected?.ToString() ?? "127.0.0.1");
    }
}
