using System.Text;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// The 64-octet greeting that opens a ZMTP 3 connection (RFC 23 and RFC 37): signature (0xFF, 8 octets of padding,
/// 0x7F), version (major, minor), mechanism (20 octets, NUL-padded), as-server, 31 octets of filler. We send ZMTP 3.1
/// with the NULL mechanism, as libzmq 4.3 does, and accept any 3.x peer (a 3.0 peer gets its subscriptions as
/// messages, see <see cref="ZmtpConnection"/>). ZMTP 1.0 and 2.0 (libzmq before 4.0) are refused, not downgraded to.
/// </summary>
internal static class ZmtpGreeting
{
    public const int Size = 64;

    /// <summary>Signature and major version: enough to tell a ZMTP 3 peer from anything else.</summary>
    public const int PrefixSize = 11;

    public const byte Major = 3;
    public const byte Minor = 1;

    private const int MechanismOffset = 12;
    private const int MechanismSize = 20;

    /// <summary>The NULL mechanism as it appears in a greeting.</summary>
    public static ReadOnlySpan<byte> NullMechanism => "NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"u8;

    /// <summary>Our greeting: ZMTP 3.1, NULL, as-server 0 (the NULL mechanism has no roles).</summary>
    public static byte[] Create()
    {
        var greeting = new byte[Size];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = Major;
        greeting[11] = Minor;
        NullMechanism.CopyTo(greeting.AsSpan(MechanismOffset));
        return greeting;
    }

    /// <summary>
    /// Checks the first <see cref="PrefixSize"/> octets a peer sent; throws <see cref="ZmtpProtocolException"/> saying
    /// what the peer is instead. The padding is not looked at (libzmq puts its routing-id length there; RFC 37 forbids
    /// giving it meaning).
    /// </summary>
    public static void CheckPrefix(ReadOnlySpan<byte> prefix)
    {
        if (prefix[0] != 0xFF)
            throw new ZmtpProtocolException($"not ZeroMQ: its first octet is 0x{prefix[0]:X2} where a ZMTP greeting starts with 0xFF ({Printable(prefix)})");
        // Bit 0 of the tenth octet is the only way to tell a ZMTP 1.0 peer, whose greeting is a routing-id frame.
        if ((prefix[9] & 0x01) == 0) throw new ZmtpProtocolException("it speaks ZMTP 1.0 (libzmq 2.x); this socket speaks ZMTP 3 (libzmq 4.x, pyzmq)");
        if (prefix[10] < Major)
        {
            throw new ZmtpProtocolException($"it speaks ZMTP {(prefix[10] == 1 ? "2.0 (libzmq 3.x)" : $"revision {prefix[10]}")}; "
                + "this socket speaks ZMTP 3 (libzmq 4.x, pyzmq)");
        }
    }

    /// <summary>
    /// The minor version of a whole greeting whose prefix passed <see cref="CheckPrefix"/>; throws when it asks for
    /// another security mechanism than NULL (RFC 37: a mechanism that does not match exactly closes the connection).
    /// A peer with a higher major version is taken as 3.1, as RFC 37 asks ("a peer MUST accept higher protocol versions").
    /// </summary>
    public static int ReadMinor(ReadOnlySpan<byte> greeting)
    {
        var mechanism = greeting.Slice(MechanismOffset, MechanismSize);
        if (!mechanism.SequenceEqual(NullMechanism))
        {
            var name = mechanism.IndexOf((byte)0) is var end and >= 0 ? mechanism[..end] : mechanism;
            throw new ZmtpProtocolException($"it asks for the {Printable(name)} security mechanism; this socket speaks NULL only "
                + "(a Unix socket: its file's permissions decide who connects)");
        }
        return greeting[10] > Major ? Minor : greeting[11];
    }

    /// <summary>Octets as text for a log line: printable ASCII as is, anything else as \xNN.</summary>
    public static string Printable(ReadOnlySpan<byte> octets)
    {
        var text = new StringBuilder(octets.Length);
        foreach (var b in octets)
        {
            if (b is >= 0x20 and < 0x7F) text.Append((char)b);
            else text.Append($"\\x{b:X2}");
        }
        return text.ToString();
    }
}
