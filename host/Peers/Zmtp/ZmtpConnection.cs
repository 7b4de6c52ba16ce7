namespace Motey.Host.Peers.Zmtp;

/// <summary>What a connection delivers: a message, or (to a publisher) a subscription or its cancellation.</summary>
internal abstract record ZmtpIncoming;

/// <summary>A message: its frames in order (most messages have one).</summary>
internal sealed record ZmtpMessage(List<byte[]> Frames) : ZmtpIncoming;

/// <summary>A subscriber's SUBSCRIBE (or CANCEL when <paramref name="Subscribe"/> is false) of a topic prefix; empty: everything.</summary>
internal sealed record ZmtpSubscription(bool Subscribe, byte[] Topic) : ZmtpIncoming;

/// <summary>
/// One ZMTP 3 connection over a stream, after its greeting and NULL handshake (RFC 23, RFC 37): send and receive
/// messages and subscriptions. Only what pub/sub needs: the local socket is a SUB (the capability event listener) or an
/// XPUB (`motey capability`). Subscriptions go to a ZMTP 3.1 peer as SUBSCRIBE commands and to a 3.0 peer as messages
/// starting with 0x01, and both forms are understood from either (libzmq 4.3 does the same). PING is answered with
/// PONG. Anything that breaks the protocol throws <see cref="ZmtpProtocolException"/>; a peer that closes the
/// connection before its greeting throws <see cref="EndOfStreamException"/> (a probe, not an error).
/// Not thread-safe: one loop reads and writes.
/// </summary>
internal sealed class ZmtpConnection
{
    public const string Sub = "SUB";
    public const string XPub = "XPUB";

    /// <summary>Frames in one message at most: events have one, and a million empty frames would cost memory, not octets.</summary>
    public const int MaxFramesPerMessage = 1024;

    private readonly Stream _stream;
    private readonly ZmtpFrameReader _reader;
    private readonly string _socketType;
    private readonly long _maxMessageBytes;

    private ZmtpConnection(Stream stream, ZmtpFrameReader reader, string socketType, long maxMessageBytes)
    {
        _stream = stream;
        _reader = reader;
        _socketType = socketType;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>The peer's minor ZMTP version: 0 for a 3.0 peer, 1 for 3.1 and anything later.</summary>
    public int PeerMinor { get; private set; }

    /// <summary>The socket type the peer announced in its READY (PUB, XPUB, SUB, XSUB).</summary>
    public string PeerSocketType { get; private set; } = "";

    /// <summary>
    /// Exchanges greetings and READY commands on <paramref name="stream"/> as a <paramref name="socketType"/> socket
    /// (<see cref="Sub"/> or <see cref="XPub"/>). The side that connected (<paramref name="connected"/>) sends its READY first and
    /// the side that accepted answers it once it has checked the peer's (RFC 37: the NULL client sends READY, the server replies).
    /// </summary>
    public static async Task<ZmtpConnection> OpenAsync(Stream stream, string socketType, bool connected, long maxMessageBytes,
        CancellationToken cancellationToken)
    {
        var reader = new ZmtpFrameReader(stream, maxMessageBytes);
        var connection = new ZmtpConnection(stream, reader, socketType, maxMessageBytes);
        // The whole greeting at once (RFC 37 allows it): libzmq sends its signature, waits for ours, then sends the rest.
        await stream.WriteAsync(ZmtpGreeting.Create(), cancellationToken);
        var greeting = new byte[ZmtpGreeting.Size];
        if (!await reader.ReadExactAsync(greeting.AsMemory(0, ZmtpGreeting.PrefixSize), "its greeting", cancellationToken))
            throw new EndOfStreamException("it closed the connection without a greeting");
        ZmtpGreeting.CheckPrefix(greeting);
        if (!await reader.ReadExactAsync(greeting.AsMemory(ZmtpGreeting.PrefixSize), "its greeting", cancellationToken))
            throw new ZmtpProtocolException("it closed the connection in the middle of its greeting");
        connection.PeerMinor = ZmtpGreeting.ReadMinor(greeting);

        var ready = ZmtpCommand.ReadyOf(socketType).Encode();
        if (connected) await stream.WriteAsync(ready, cancellationToken);
        await connection.ReadReadyAsync(cancellationToken);
        if (!connected) await stream.WriteAsync(ready, cancellationToken);
        return connection;
    }

    /// <summary>The next message or subscription; null when the peer closed the connection between two of them.</summary>
    public async ValueTask<ZmtpIncoming?> ReceiveAsync(CancellationToken cancellationToken)
    {
        List<byte[]>? frames = null;
        long size = 0;
        while (true)
        {
            if (await _reader.ReadFrameAsync(cancellationToken) is not { } frame)
            {
                if (frames is null) return null;
                throw new ZmtpProtocolException($"it closed the connection in the middle of a message (after {frames.Count} frames)");
            }
            if (frame.IsCommand)
            {
                if (frames is not null) throw new ZmtpProtocolException($"it sent a command in the middle of a message (after {frames.Count} frames)");
                if (await OnCommandAsync(ZmtpCommand.Parse(frame.Body), cancellationToken) is { } subscription) return subscription;
                continue;
            }
            size += frame.Body.Length;
            if (size > _maxMessageBytes) throw new ZmtpProtocolException($"a message runs over this socket's limit of {_maxMessageBytes} octets");
            frames ??= [];
            if (frames.Count == MaxFramesPerMessage) throw new ZmtpProtocolException($"a message has more than {MaxFramesPerMessage} frames");
            frames.Add(frame.Body);
            if (!frame.HasMore) return Classify(frames);
        }
    }

    /// <summary>Sends a message of one or more frames.</summary>
    public async ValueTask SendAsync(IReadOnlyList<byte[]> frames, CancellationToken cancellationToken)
    {
        for (var i = 0; i < frames.Count; i++)
            await _stream.WriteAsync(ZmtpFrame.Encode(i < frames.Count - 1 ? ZmtpFrame.More : (byte)0, frames[i]), cancellationToken);
    }

    /// <summary>Subscribes to messages starting with <paramref name="topic"/> (empty: all): a command to a 3.1 peer, a 0x01 message to a 3.0 one.</summary>
    public async ValueTask SubscribeAsync(byte[] topic, CancellationToken cancellationToken)
    {
        var frame = PeerMinor >= 1
            ? new ZmtpCommand(ZmtpCommand.Subscribe, topic).Encode()
            : ZmtpFrame.Encode(0, [1, .. topic]);
        await _stream.WriteAsync(frame, cancellationToken);
    }

    private async Task ReadReadyAsync(CancellationToken cancellationToken)
    {
        var frame = await _reader.ReadFrameAsync(cancellationToken)
            ?? throw new ZmtpProtocolException("it closed the connection after the greeting, before its READY command");
        if (!frame.IsCommand) throw new ZmtpProtocolException("it sent a message before the READY command of the NULL handshake");
        var command = ZmtpCommand.Parse(frame.Body);
        if (command.Name == ZmtpCommand.Error)
            throw new ZmtpProtocolException($"it refused the handshake with ERROR: {ZmtpCommand.ErrorReason(command.Data)}");
        if (command.Name != ZmtpCommand.Ready) throw new ZmtpProtocolException($"it sent {command.Name} where the NULL handshake expects READY");
        var metadata = ZmtpCommand.ParseMetadata(command.Data);
        if (!metadata.TryGetValue(ZmtpCommand.SocketTypeProperty, out var type))
            throw new ZmtpProtocolException("its READY command names no Socket-Type");
        PeerSocketType = ZmtpGreeting.Printable(type);
        string[] partners = _socketType == Sub ? ["PUB", "XPUB"] : ["SUB", "XSUB"];
        if (!partners.Contains(PeerSocketType, StringComparer.Ordinal))
        {
            // RFC 37: a socket type mismatch is answered with ERROR, then the connection closes.
            await _stream.WriteAsync(ZmtpCommand.ErrorOf("invalid socket type").Encode(), cancellationToken);
            throw new ZmtpProtocolException($"it is a {PeerSocketType} socket; this {_socketType} socket talks to {string.Join(" and ", partners)} only");
        }
    }

    /// <summary>Answers PING, ends the connection on ERROR, hands up subscriptions to a publisher; ignores the rest.</summary>
    private async ValueTask<ZmtpIncoming?> OnCommandAsync(ZmtpCommand command, CancellationToken cancellationToken)
    {
        switch (command.Name)
        {
            case ZmtpCommand.Ping:
                if (command.Data.Length < 2) throw new ZmtpProtocolException("a PING command lacks its two-octet TTL");
                if (command.Data.Length - 2 > ZmtpCommand.MaxPingContext)
                    throw new ZmtpProtocolException($"a PING command's context has {command.Data.Length - 2} octets, over the 16 RFC 37 allows");
                await _stream.WriteAsync(new ZmtpCommand(ZmtpCommand.Pong, command.Data[2..]).Encode(), cancellationToken);
                return null;
            case ZmtpCommand.Error:
                throw new ZmtpProtocolException($"it sent ERROR: {ZmtpCommand.ErrorReason(command.Data)}");
            case ZmtpCommand.Subscribe or ZmtpCommand.Cancel when _socketType == XPub:
                return new ZmtpSubscription(command.Name == ZmtpCommand.Subscribe, command.Data);
            default:
                return null;
        }
    }

    /// <summary>To a publisher, a one-frame message starting with 1 or 0 is a ZMTP 3.0 subscription or cancellation.</summary>
    private ZmtpIncoming Classify(List<byte[]> frames) =>
        _socketType == XPub && frames is [[(0 or 1) and var kind, .. var topic]]
            ? new ZmtpSubscription(kind == 1, topic)
            : new ZmtpMessage(frames);
}
