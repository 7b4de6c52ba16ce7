using System.Text;
using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>Handshakes and traffic over a real Unix socket: our two ends with each other, and with peers written octet by octet.</summary>
public sealed class ZmtpConnectionTests : IAsyncLifetime
{
    private const long Limit = 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private UnixPair _pair = null!;
    private readonly CancellationTokenSource _deadline = new(Deadline);

    public async Task InitializeAsync() => _pair = await UnixPair.CreateAsync();

    public async Task DisposeAsync()
    {
        await _pair.DisposeAsync();
        _deadline.Dispose();
    }

    private CancellationToken Token => _deadline.Token;

    /// <summary>Our SUB on the accepting end, after the raw peer on the connecting end sent its greeting and READY.</summary>
    private async Task<ZmtpConnection> SubscriberWithRawPeerAsync(byte minor = 1, string socketType = "PUB")
    {
        await _pair.Connected.WriteAsync(RawZmtp.Greeting(minor), Token);
        await _pair.Connected.WriteAsync(RawZmtp.Ready(socketType), Token);
        var subscriber = await ZmtpConnection.OpenAsync(_pair.Accepted, ZmtpConnection.Sub, connected: false, Limit, Token);
        await RawZmtp.ReadAsync(_pair.Connected, 64 + RawZmtp.Ready("SUB").Length);  // our greeting and READY
        return subscriber;
    }

    [Fact]
    public async Task Our_publisher_hears_our_subscribers_subscription_and_the_subscriber_gets_the_message()
    {
        var publishing = ZmtpConnection.OpenAsync(_pair.Connected, ZmtpConnection.XPub, connected: true, Limit, Token);
        var subscriber = await ZmtpConnection.OpenAsync(_pair.Accepted, ZmtpConnection.Sub, connected: false, Limit, Token);
        var publisher = await publishing;

        await subscriber.SubscribeAsync([], Token);
        Assert.Equal(new ZmtpSubscription(true, []), await publisher.ReceiveAsync(Token), SubscriptionComparer.Instance);
        await publisher.SendAsync([Encoding.UTF8.GetBytes("add_capability#[]")], Token);
        var message = Assert.IsType<ZmtpMessage>(await subscriber.ReceiveAsync(Token));

        Assert.Equal("add_capability#[]", Encoding.UTF8.GetString(Assert.Single(message.Frames)));
        Assert.Equal("SUB", publisher.PeerSocketType);
        Assert.Equal("XPUB", subscriber.PeerSocketType);
        Assert.Equal(1, subscriber.PeerMinor);
    }

    [Fact]
    public async Task A_zmtp_3_1_publisher_gets_the_subscription_as_a_subscribe_command()
    {
        var subscriber = await SubscriberWithRawPeerAsync(minor: 1);

        await subscriber.SubscribeAsync([], Token);

        Assert.Equal([0x04, 0x0A, 0x09, .. "SUBSCRIBE"u8], await RawZmtp.ReadAsync(_pair.Connected, 12));
    }

    [Fact]
    public async Task A_zmtp_3_0_publisher_gets_the_subscription_as_a_message_starting_with_1()
    {
        var subscriber = await SubscriberWithRawPeerAsync(minor: 0);

        await subscriber.SubscribeAsync("add"u8.ToArray(), Token);

        Assert.Equal([0x00, 0x04, 0x01, .. "add"u8], await RawZmtp.ReadAsync(_pair.Connected, 6));
    }

    [Fact]
    public async Task A_publisher_understands_subscriptions_and_cancellations_in_both_forms()
    {
        await _pair.Accepted.WriteAsync(RawZmtp.Greeting(0), Token);
        await _pair.Accepted.WriteAsync(RawZmtp.Ready("SUB"), Token);
        var publisher = await ZmtpConnection.OpenAsync(_pair.Connected, ZmtpConnection.XPub, connected: true, Limit, Token);

        await _pair.Accepted.WriteAsync(new byte[] { 0x00, 0x02, 0x01, (byte)'a' }, Token);
        await _pair.Accepted.WriteAsync(new byte[] { 0x00, 0x02, 0x00, (byte)'a' }, Token);
        await _pair.Accepted.WriteAsync(new ZmtpCommand(ZmtpCommand.Subscribe, "b"u8.ToArray()).Encode(), Token);
        await _pair.Accepted.WriteAsync(new ZmtpCommand(ZmtpCommand.Cancel, "b"u8.ToArray()).Encode(), Token);

        Assert.Equal(new ZmtpSubscription(true, "a"u8.ToArray()), await publisher.ReceiveAsync(Token), SubscriptionComparer.Instance);
        Assert.Equal(new ZmtpSubscription(false, "a"u8.ToArray()), await publisher.ReceiveAsync(Token), SubscriptionComparer.Instance);
        Assert.Equal(new ZmtpSubscription(true, "b"u8.ToArray()), await publisher.ReceiveAsync(Token), SubscriptionComparer.Instance);
        Assert.Equal(new ZmtpSubscription(false, "b"u8.ToArray()), await publisher.ReceiveAsync(Token), SubscriptionComparer.Instance);
    }

    [Fact]
    public async Task A_peer_of_the_wrong_socket_type_is_told_so_with_an_error_and_refused()
    {
        await _pair.Connected.WriteAsync(RawZmtp.Greeting(), Token);
        await _pair.Connected.WriteAsync(RawZmtp.Ready("REQ"), Token);

        var error = await Assert.ThrowsAsync<ZmtpProtocolException>(() => ZmtpConnection.OpenAsync(_pair.Accepted, ZmtpConnection.Sub, false, Limit, Token));

        Assert.Equal("it is a REQ socket; this SUB socket talks to PUB and XPUB only", error.Message);
        await RawZmtp.ReadAsync(_pair.Connected, 64);
        var answer = ZmtpCommand.ErrorOf("invalid socket type").Encode();
        Assert.Equal(answer, await RawZmtp.ReadAsync(_pair.Connected, answer.Length));  // ERROR, not READY
    }

    public static TheoryData<string, byte[], string> BrokenHandshakes => new()
    {
        { "a message before READY", [.. RawZmtp.Greeting(), 0x00, 0x01, (byte)'x'], "it sent a message before the READY command of the NULL handshake" },
        { "another command before READY", [.. RawZmtp.Greeting(), .. new ZmtpCommand("HELLO", []).Encode()], "it sent HELLO where the NULL handshake expects READY" },
        { "an ERROR", [.. RawZmtp.Greeting(), .. ZmtpCommand.ErrorOf("go away").Encode()], "it refused the handshake with ERROR: go away" },
        { "no Socket-Type", [.. RawZmtp.Greeting(), .. new ZmtpCommand(ZmtpCommand.Ready, []).Encode()], "its READY command names no Socket-Type" },
        { "closed after the greeting", RawZmtp.Greeting(), "it closed the connection after the greeting, before its READY command" },
        { "half a greeting", RawZmtp.Greeting()[..30], "it closed the connection in the middle of its greeting" },
        { "the CURVE mechanism", RawZmtp.Greeting(mechanism: "CURVE"), "it asks for the CURVE security mechanism" },
    };

    [Theory]
    [MemberData(nameof(BrokenHandshakes))]
    public async Task A_broken_handshake_is_refused_saying_what_broke(string kind, byte[] octets, string message)
    {
        await _pair.Connected.WriteAsync(octets, Token);
        _pair.Connected.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        var error = await Assert.ThrowsAsync<ZmtpProtocolException>(() => ZmtpConnection.OpenAsync(_pair.Accepted, ZmtpConnection.Sub, false, Limit, Token));

        Assert.True(error.Message.StartsWith(message, StringComparison.Ordinal), $"{kind}: {error.Message}");
    }

    [Fact]
    public async Task A_peer_that_leaves_without_a_word_is_a_probe_not_a_protocol_error()
    {
        _pair.Connected.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        await Assert.ThrowsAsync<EndOfStreamException>(() => ZmtpConnection.OpenAsync(_pair.Accepted, ZmtpConnection.Sub, false, Limit, Token));
    }

    [Fact]
    public async Task A_ping_is_answered_with_a_pong_that_carries_its_context()
    {
        var subscriber = await SubscriberWithRawPeerAsync();

        await _pair.Connected.WriteAsync(new ZmtpCommand(ZmtpCommand.Ping, [0, 10, .. "ctx"u8]).Encode(), Token);
        await _pair.Connected.WriteAsync(ZmtpFrame.Encode(0, "after"u8), Token);

        Assert.IsType<ZmtpMessage>(await subscriber.ReceiveAsync(Token));
        var pong = new ZmtpCommand(ZmtpCommand.Pong, "ctx"u8.ToArray()).Encode();
        Assert.Equal(pong, await RawZmtp.ReadAsync(_pair.Connected, pong.Length));
    }

    public static TheoryData<string, byte[], string> BrokenTraffic => new()
    {
        { "a command inside a message", [.. ZmtpFrame.Encode(ZmtpFrame.More, "a"u8), .. new ZmtpCommand(ZmtpCommand.Ping, [0, 0]).Encode()],
            "it sent a command in the middle of a message (after 1 frames)" },
        { "a message over the limit", [.. ZmtpFrame.Encode(ZmtpFrame.More, new byte[600]), .. ZmtpFrame.Encode(0, new byte[600])],
            "a message runs over this socket's limit of 1024 octets" },
        { "a message cut short", [.. ZmtpFrame.Encode(ZmtpFrame.More, "a"u8)], "it closed the connection in the middle of a message (after 1 frames)" },
        { "a PING without its TTL", [.. new ZmtpCommand(ZmtpCommand.Ping, [0]).Encode()], "a PING command lacks its two-octet TTL" },
        { "a PING with a long context", [.. new ZmtpCommand(ZmtpCommand.Ping, new byte[19]).Encode()], "a PING command's context has 17 octets" },
        { "an ERROR", [.. ZmtpCommand.ErrorOf("bye").Encode()], "it sent ERROR: bye" },
        { "a malformed command", [0x04, 0x01, 0x05], "a command's name of 5 octets runs past its frame of 1 octets" },
    };

    [Theory]
    [MemberData(nameof(BrokenTraffic))]
    public async Task Broken_traffic_after_the_handshake_is_refused_saying_what_broke(string kind, byte[] octets, string message)
    {
        var subscriber = await SubscriberWithRawPeerAsync();
        await _pair.Connected.WriteAsync(octets, Token);
        _pair.Connected.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        var error = await Assert.ThrowsAsync<ZmtpProtocolException>(async () => await subscriber.ReceiveAsync(Token));

        Assert.True(error.Message.StartsWith(message, StringComparison.Ordinal), $"{kind}: {error.Message}");
    }

    [Fact]
    public async Task Unknown_commands_are_ignored_and_a_message_of_many_frames_arrives_whole()
    {
        var subscriber = await SubscriberWithRawPeerAsync();
        await _pair.Connected.WriteAsync(new ZmtpCommand("JOIN", "group"u8.ToArray()).Encode(), Token);
        await _pair.Connected.WriteAsync((byte[])[.. ZmtpFrame.Encode(ZmtpFrame.More, "a"u8), .. ZmtpFrame.Encode(ZmtpFrame.More, []), .. ZmtpFrame.Encode(0, "c"u8)], Token);

        var message = Assert.IsType<ZmtpMessage>(await subscriber.ReceiveAsync(Token));

        Assert.Equal(["a", "", "c"], message.Frames.Select(Encoding.UTF8.GetString));
    }

    private sealed class SubscriptionComparer : IEqualityComparer<ZmtpIncoming?>
    {
        public static readonly SubscriptionComparer Instance = new();

        public bool Equals(ZmtpIncoming? x, ZmtpIncoming? y) =>
            x is ZmtpSubscription a && y is ZmtpSubscription b && a.Subscribe == b.Subscribe && a.Topic.AsSpan().SequenceEqual(b.Topic);

        public int GetHashCode(ZmtpIncoming? obj) => 0;
    }
}
