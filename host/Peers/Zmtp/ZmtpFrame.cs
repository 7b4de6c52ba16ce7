using System.Buffers.Binary;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// One ZMTP frame (RFC 23, "Framing"): a flags octet, a size (one octet, or eight in network order when LONG is set),
/// and a body of that size. A message is one or more frames, each but the last with MORE; a command is one frame with COMMAND.
/// </summary>
internal readonly record struct ZmtpFrame(byte Flags, byte[] Body)
{
    public const byte More = 0x01;
    public const byte Long = 0x02;
    public const byte Command = 0x04;

    /// <summary>Bits 7-3, which RFC 23 reserves and requires to be zero.</summary>
    public const byte Reserved = 0xF8;

    public const int MaxHeaderSize = 9;

    public bool HasMore => (Flags & More) != 0;
    public bool IsCommand => (Flags & Command) != 0;

    /// <summary>The frame as it goes on the wire: a short size up to 255 octets, a long one above.</summary>
    public static byte[] Encode(byte flags, ReadOnlySpan<byte> body)
    {
        var header = body.Length > byte.MaxValue ? MaxHeaderSize : 2;
        var frame = new byte[header + body.Length];
        if (header == 2)
        {
            frame[0] = flags;
            frame[1] = (byte)body.Length;
        }
        else
        {
            frame[0] = (byte)(flags | Long);
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(1), (ulong)body.Length);
        }
        body.CopyTo(frame.AsSpan(header));
        return frame;
    }
}
