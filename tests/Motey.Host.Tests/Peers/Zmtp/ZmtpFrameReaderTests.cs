using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>Frames read from a stream: short, long, multipart, and every way a peer can get them wrong.</summary>
public sealed class ZmtpFrameReaderTests
{
    private const long Limit = 1024 * 1024;

    private static ZmtpFrameReader Reader(params byte[][] chunks) => new(new MemoryStream([.. chunks.SelectMany(c => c)]), Limit);

    [Fact]
    public async Task Short_long_and_multipart_frames_come_out_as_sent()
    {
        var big = Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray();
        var reader = Reader(ZmtpFrame.Encode(ZmtpFrame.More, "a"u8), ZmtpFrame.Encode(0, big), ZmtpFrame.Encode(0, []));

        var first = await reader.ReadFrameAsync(CancellationToken.None);
        var second = await reader.ReadFrameAsync(CancellationToken.None);
        var third = await reader.ReadFrameAsync(CancellationToken.None);

        Assert.True(first!.Value.HasMore);
        Assert.Equal("a"u8.ToArray(), first.Value.Body);
        Assert.False(second!.Value.HasMore);
        Assert.Equal(big, second.Value.Body);
        Assert.Empty(third!.Value.Body);
        Assert.Null(await reader.ReadFrameAsync(CancellationToken.None));  // the peer closed between frames
    }

    [Fact]
    public async Task A_small_body_with_a_long_size_field_is_read_as_libzmq_allows()
    {
        var reader = Reader([0x02, 0, 0, 0, 0, 0, 0, 0, 3], "abc"u8.ToArray());

        var frame = await reader.ReadFrameAsync(CancellationToken.None);

        Assert.Equal("abc"u8.ToArray(), frame!.Value.Body);
        Assert.Equal(0, frame.Value.Flags);
    }

    [Fact]
    public async Task A_frame_that_arrives_one_octet_at_a_time_is_put_together()
    {
        var frame = ZmtpFrame.Encode(0, Enumerable.Repeat((byte)'x', 300).ToArray());
        var reader = new ZmtpFrameReader(new TrickleStream(frame), Limit);

        Assert.Equal(300, (await reader.ReadFrameAsync(CancellationToken.None))!.Value.Body.Length);
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "reserved bits", [0x08, 1, (byte)'x'], "a frame has reserved flag bits set (flags 0x08)" },
        { "all bits", [0xFF, 0], "a frame has reserved flag bits set (flags 0xFF)" },
        { "command with MORE", [0x05, 0], "a command frame has the MORE flag, which RFC 23 forbids" },
        { "over the limit", [0x02, 0, 0, 0, 0, 0, 0x10, 0, 1], $"a frame declares 1048577 octets, over this socket's limit of {Limit} (1 MiB)" },
        { "size with the top bit set", [0x02, 0x80, 0, 0, 0, 0, 0, 0, 0], "a frame declares 9223372036854775808 octets, over this socket's limit" },
        { "largest size", [0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "a frame declares 18446744073709551615 octets" },
        { "truncated body", [0x00, 10, (byte)'a', (byte)'b'], "it closed the connection in the middle of a frame (2 of 10 octets)" },
        { "truncated header", [0x00], "it closed the connection in the middle of a frame header (1 of 2 octets)" },
        { "truncated long size", [0x02, 0, 0, 0], "it closed the connection in the middle of a frame header" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_frame_is_refused_saying_what_is_wrong(string kind, byte[] octets, string message)
    {
        var error = await Assert.ThrowsAsync<ZmtpProtocolException>(async () => await Reader(octets).ReadFrameAsync(CancellationToken.None));

        Assert.True(error.Message.StartsWith(message, StringComparison.Ordinal), $"{kind}: {error.Message}");
    }

    [Fact]
    public async Task A_declared_size_over_the_limit_is_refused_before_any_of_its_body_is_awaited()
    {
        // Only the header exists: a reader that waited for the body would hang on the open pipe instead.
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var input = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, pipe.ClientSafePipeHandle);
        await pipe.WriteAsync(new byte[] { 0x02, 0, 0, 0, 0, 0x7F, 0, 0, 0 });

        var error = await Assert.ThrowsAsync<ZmtpProtocolException>(async () => await new ZmtpFrameReader(input, Limit).ReadFrameAsync(CancellationToken.None));

        Assert.Contains("over this socket's limit", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Hands out one octet per read, as a slow peer's packets would.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
