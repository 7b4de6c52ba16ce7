using System.Text;
using Motey.Abstractions;
using Motey.Val.Shared;

namespace Motey.Val.Docker.Tests;

/// <summary>Output bytes into lines, as every shipped VAL reads them (the splitter is shared source).</summary>
public sealed class LogLineSplitterTests
{
    [Fact]
    public void Lines_split_on_newline_keep_a_partial_line_until_it_is_completed_and_replace_bad_utf8()
    {
        var splitter = new LogLineSplitter(LogSource.Output);
        var lines = new List<LogLine>();

        splitter.Append("one\ntw"u8, null, lines);
        Assert.Equal(["one"], lines.Select(l => l.Text));

        splitter.Append("o\n\ncaf"u8, null, lines);
        splitter.Append([0xC3], null, lines);         // é cut in two by the reads...
        splitter.Append([0xA9, 0xFF, (byte)'\n'], null, lines); // ...is whole; 0xFF is no UTF-8
        splitter.Append("end"u8, null, lines);
        splitter.Flush(lines);

        Assert.Equal(["one", "two", "", "café\uFFFD", "end"], lines.Select(l => l.Text));
    }

    [Fact]
    public void A_line_longer_than_64_KiB_is_cut_into_pieces_between_characters()
    {
        var splitter = new LogLineSplitter(LogSource.Stdout);
        var lines = new List<LogLine>();
        // 'é' is 2 bytes: one byte of padding puts a character across the 64 KiB mark.
        var text = "x" + string.Concat(Enumerable.Repeat("é", LogLineSplitter.MaxLineBytes));

        splitter.Append(Encoding.UTF8.GetBytes(text + "\n"), null, lines);

        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l.Text) <= LogLineSplitter.MaxLineBytes));
        Assert.DoesNotContain(lines, l => l.Text.Contains('\uFFFD'));
        Assert.Equal(text, string.Concat(lines.Select(l => l.Text)));
    }
}
