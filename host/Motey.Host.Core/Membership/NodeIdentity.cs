using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Motey.Host.Core.Membership;

/// <summary>How this node names itself to the cluster (the seed's get_own_ip, but configurable).</summary>
public sealed record NodeIdentity(string Address)
{
    /// <summary>
    /// The addresses this agent named itself by before (kept in its database): the instances it created then carry
    /// one of them as their node, and are still its own (the fence stops them as nobody's once their placing node
    /// cannot be asked; a node whose address came from DHCP gets a new one after a reboot).
    /// </summary>
    public IReadOnlySet<string> FormerAddresses { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>True for this node's address and its former ones.</summary>
    public bool IsOwn(string address) => address == Address || FormerAddresses.Contains(address);

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
