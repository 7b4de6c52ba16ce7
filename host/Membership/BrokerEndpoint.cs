using System.Globalization;
using System.Net;

namespace Motey.Host.Membership;

/// <summary>One MQTT broker a node may use: an IP address (written canonically) or a host name, and a port.</summary>
internal sealed record BrokerEndpoint(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>
    /// The brokers a node tries, in order. <paramref name="text"/> is [MQTT] brokers, <c>host:port, host:port</c> (a port may
    /// be left out: <paramref name="port"/>; IPv6 as <c>[addr]:port</c>); when it is empty, <paramref name="ip"/>:<paramref name="port"/>
    /// alone, as before the list existed. A node with <paramref name="embedded"/> hosts its broker on ip:port: when the list
    /// leaves that out it is tried last, so such a node can always reach at least its own broker. Null, with
    /// <paramref name="problem"/>, when the text is not such a list.
    /// </summary>
    public static BrokerList? ParseList(string text, bool embedded, string ip, int port, out string? problem)
    {
        problem = null;
        var own = new BrokerEndpoint(Canonical(ip), port);
        if (text.Trim().Length == 0) return new BrokerList([own]);
        var list = new List<BrokerEndpoint>();
        foreach (var item in text.Split(',').Select(i => i.Trim()))
        {
            if (Parse(item, port) is not { } broker)
            {
                problem = item.Length == 0 ? "an empty entry between commas" : $"'{item}' is not host:port";
                return null;
            }
            if (list.Contains(broker))
            {
                problem = $"{broker} is listed twice";
                return null;
            }
            list.Add(broker);
        }
        if (embedded && !list.Contains(own)) list.Add(own);
        return new BrokerList(list);
    }

    private static BrokerEndpoint? Parse(string item, int defaultPort)
    {
        string host;
        var portText = "";
        if (item.StartsWith('['))
        {
            var close = item.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) return null;
            host = item[1..close];
            var rest = item[(close + 1)..];
            if (rest.Length > 0 && !rest.StartsWith(':')) return null;
            portText = rest.Length > 0 ? rest[1..] : "";
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return null;
        }
        else if (item.Count(c => c == ':') > 1)
        {
            host = item;  // a bare IPv6 address, with the default port
            if (!IPAddress.TryParse(host, out _)) return null;
        }
        else
        {
            var colon = item.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? item : item[..colon];
            portText = colon < 0 ? "" : item[(colon + 1)..];
            // Digits and dots must be an IPv4 address written out ("127.1" or "300.1.1.1" would name another host, or none).
            if (host.All(c => char.IsAsciiDigit(c) || c == '.'))
            {
                if (!IPAddress.TryParse(host, out var v4) || v4.ToString() != host) return null;
            }
            else if (Uri.CheckHostName(host) != UriHostNameType.Dns) return null;
        }
        var port = defaultPort;
        if (portText.Length > 0 || item.EndsWith(':'))
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535) return null;
        }
        return new BrokerEndpoint(Canonical(host), port);
    }

    /// <summary>An address as IPAddress writes it (so "127.0.0.2" and "::1" compare equal however they were written); a host name as given.</summary>
    private static string Canonical(string host) => IPAddress.TryParse(host, out var address) ? address.ToString() : host;
}

/// <summary>The brokers of [MQTT] brokers in order; equal to another list with the same brokers in the same order (settings compare by value).</summary>
internal sealed class BrokerList(IReadOnlyList<BrokerEndpoint> brokers) : IReadOnlyList<BrokerEndpoint>, IEquatable<BrokerList>
{
    public BrokerEndpoint this[int index] => brokers[index];

    public int Count => brokers.Count;

    public IEnumerator<BrokerEndpoint> GetEnumerator() => brokers.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(BrokerList? other) => other is not null && brokers.SequenceEqual(other);

    public override bool Equals(object? obj) => Equals(obj as BrokerList);

    public override int GetHashCode() => brokers.Aggregate(0, (hash, broker) => HashCode.Combine(hash, broker));

    public override string ToString() => string.Join(", ", brokers);
}
