using System.Buffers.Binary;
using System.Text;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// A ZMTP command (RFC 23 and 37): one COMMAND frame whose body is a name (one octet of length, 1 to 255 letters) and
/// data. The ones this socket knows: READY and ERROR (the NULL handshake), SUBSCRIBE and CANCEL (3.1 subscriptions),
/// PING and PONG (heartbeats). Others are ignored, as libzmq ignores them.
/// </summary>
internal readonly record struct ZmtpCommand(string Name, byte[] Data)
{
    public const string Ready = "READY";
    public const string Error = "ERROR";
    public const string Subscribe = "SUBSCRIBE";
    public const string Cancel = "CANCEL";
    public const string Ping = "PING";
    public const string Pong = "PONG";

    /// <summary>The metadata property that names the sender's socket type (RFC 37, "The Socket-Type Property").</summary>
    public const string SocketTypeProperty = "Socket-Type";

    /// <summary>A PING's context and so a PONG's data: at most 16 octets (RFC 37, "Connection Heartbeating").</summary>
    public const int MaxPingContext = 16;

    /// <summary>The command in a COMMAND frame's body; throws <see cref="ZmtpProtocolException"/> when it is not one.</summary>
    public static ZmtpCommand Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length == 0) throw new ZmtpProtocolException("a command frame is empty (it has no command name)");
        var length = body[0];
        if (length == 0) throw new ZmtpProtocolException("a command has an empty name");
        if (length > body.Length - 1)
            throw new ZmtpProtocolException($"a command's name of {length} octets runs past its frame of {body.Length} octets");
        var name = body.Slice(1, length);
        foreach (var c in name)
        {
            if (!char.IsAsciiLetter((char)c))
                throw new ZmtpProtocolException($"a command name holds something other than letters: '{ZmtpGreeting.Printable(name)}'");
        }
        return new ZmtpCommand(Encoding.ASCII.GetString(name), body[(1 + length)..].ToArray());
    }

    /// <summary>This command as a frame on the wire.</summary>
    public byte[] Encode()
    {
        var body = new byte[1 + Name.Length + Data.Length];
        body[0] = (byte)Name.Length;
        Encoding.ASCII.GetBytes(Name, body.AsSpan(1));
        Data.CopyTo(body.AsSpan(1 + Name.Length));
        return ZmtpFrame.Encode(ZmtpFrame.Command, body);
    }

    /// <summary>READY with the one property every peer should send: its socket type.</summary>
    public static ZmtpCommand ReadyOf(string socketType)
    {
        var name = Encoding.ASCII.GetBytes(SocketTypeProperty);
        var value = Encoding.ASCII.GetBytes(socketType);
        var data = new byte[1 + name.Length + 4 + value.Length];
        data[0] = (byte)name.Length;
        name.CopyTo(data, 1);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(1 + name.Length), value.Length);
        value.CopyTo(data, 1 + name.Length + 4);
        return new ZmtpCommand(Ready, data);
    }

    /// <summary>ERROR with a reason for the peer's log (at most 255 printable ASCII characters).</summary>
    public static ZmtpCommand ErrorOf(string reason)
    {
        var text = new string([.. reason.Where(c => c is >= ' ' and < (char)0x7F).Take(byte.MaxValue)]);
        return new ZmtpCommand(Error, [(byte)text.Length, .. Encoding.ASCII.GetBytes(text)]);
    }

    /// <summary>
    /// The properties of a READY command's data (names case-insensitive, RFC 37 "The NULL Security Mechanism"); throws
    /// <see cref="ZmtpProtocolException"/> when a name or a value runs past the data or a name is empty.
    /// </summary>
    public static Dictionary<string, byte[]> ParseMetadata(ReadOnlySpan<byte> data)
    {
        var properties = new Dictionary<string, byte[]>(StringComparer.OrdinalIgnoreCase);
        while (data.Length > 0)
        {
            var nameLength = data[0];
            if (nameLength == 0) throw new ZmtpProtocolException("a READY property has an empty name");
            if (nameLength + 1 + 4 > data.Length)
                throw new ZmtpProtocolException($"a READY property's name of {nameLength} octets and its value size run past the command");
            var name = ZmtpGreeting.Printable(data.Slice(1, nameLength));
            var valueLength = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(1 + nameLength, 4));
            var rest = data[(1 + nameLength + 4)..];
            if (valueLength > (uint)rest.Length)
                throw new ZmtpProtocolException($"the READY property {name} declares a value of {valueLength} octets, but {rest.Length} remain");
            properties[name] = rest[..(int)valueLength].ToArray();
            data = rest[(int)valueLength..];
        }
        return properties;
    }

    /// <summary>The reason an ERROR command gives, as printable text (empty when it gives none or breaks the grammar).</summary>
    public static string ErrorReason(ReadOnlySpan<byte> data) =>
        data.Length > 0 && data[0] <= data.Length - 1 ? ZmtpGreeting.Printable(data.Slice(1, data[0])) : "";
}
