using System.Buffers.Binary;
using System.Text;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>The engine's multiplexed logs stream decoded into lines, whatever chunks its bytes come in.</summary>
public sealed class LogFramesTests
{
    private const string Time1 = "2026-12-01T05:42:45.586123169Z";
    private const string Time2 = "2026-12-01T05:42:46.000000001Z";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(9)]
    [InlineData(4096)]
    public void Frames_become_lines_of_their_stream_with_their_time_in_any_chunks(int chunk)
    {
        var stream = Concat(
            Frame(1, $"{Time1} hello\n"),
            Frame(2, $"{Time1} oops\n"),
            Frame(1, $"{Time1} a long li"),   // a piece of a line longer than the driver's buffer...
            Frame(1, $"{Time2} ne\n"),        // ...and its rest, with a time of its own that is not text
            Frame(1, $"{Time2} partial"));

        var lines = Decode(stream, chunk);

        Assert.Equal(
            [(LogSource.Stdout, "hello"), (LogSource.Stderr, "oops"), (LogSource.Stdout, "a long line"), (LogSource.Stdout, "partial")],
            lines.Select(l => (l.Source, l.Text)));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 5, 42, 45, TimeSpan.Zero).AddTicks(5861231), lines[0].Time);
        Assert.Equal(lines[0].Time, lines[2].Time); // the line's time is its first piece's
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 5, 42, 46, TimeSpan.Zero), lines[3].Time);
    }

    [Fact]
    public void An_error_the_engine_sends_in_the_stream_is_raised_with_its_words()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Decode(Frame(3, "invalid tail value"), 4096));

        Assert.Equal("invalid tail value", error.Message);
    }

    [Fact]
    public void A_stream_cut_inside_a_frame_is_an_error()
    {
        var frame = Frame(1, $"{Time1} cut\n");

        Assert.Throws<IOException>(() => Decode(frame[..^2], 4096));
    }

    [Theory]
    [InlineData("2026-12-01T05:42:45.123456789Z", "2026-12-01T05:42:45.1234567+00:00")]
    [InlineData("2026-12-01T07:42:45.5+02:00", "2026-12-01T07:42:45.5000000+02:00")]
    [InlineData("2026-12-01T05:42:45Z", "2026-12-01T05:42:45.0000000+00:00")]
    public void Engine_times_are_read_to_100_ns(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), LogFrames.ParseTime(text));
    }

    [Fact]
    public void A_word_that_is_no_time_gives_no_time()
    {
        Assert.Null(LogFrames.ParseTime("hello"));
    }

    private static List<LogLine> Decode(byte[] stream, int chunk)
    {
        var frames = new LogFrames();
        var lines = new List<LogLine>();
        for (var i = 0; i < stream.Length; i += chunk) frames.Decode(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)), lines);
        frames.Finish(lines);
        return lines;
    }

    private static byte[] Frame(byte stream, string payload)
    {
        var body = Encoding.UTF8.GetBytes(payload);
        var frame = new byte[8 + body.Length];
        frame[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)body.Length);
        body.CopyTo(frame, 8);
        return frame;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
