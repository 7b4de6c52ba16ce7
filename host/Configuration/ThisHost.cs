using System.Net;
using System.Net.NetworkInformation;

namespace Motey.Host.Configuration;

/// <summary>Whether an address is this host's own, so config.ini can tell a broker of this node from a broker elsewhere.</summary>
internal static class ThisHost
{
    /// <summary>
    /// True for loopback, for the unspecified address (every interface) and for an address of one of this host's
    /// interfaces (in this network namespace); false for anything else, a host name included.
    /// </summary>
    public static bool Owns(string ip)
    {
        if (!IPAddress.TryParse(ip, out var address)) return false;
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
                .Any(unicast => unicast.Address.Equals(address));
        }
        catch (NetworkInformationException)
        {
            // The interfaces cannot be listed: the address is not known to be ours, so the broker is taken to be elsewhere.
            return false;
        }
    }
}
