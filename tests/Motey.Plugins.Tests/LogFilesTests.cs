using System.Text;
using Motey.Val.Process;

namespace Motey.Plugins.Tests;

/// <summary>
/// A process instance's log read across rotations, with the test writing the log as the program would (appending):
/// a reader loses nothing a rotation moves to <c>.log.1</c>, and a tail counts lines across both files.
/// </summary>
public sealed class LogFilesTests : IDisposable
{
    private readonly TempDirectory _data = new("motey-log-files-");
    private readonly ProcessInstanceId _id = new(4242, 99);
    private readonly LogFiles _files;

    public LogFilesTests()
    {
        Directory.CreateDirectory(Path.Combine(_data.Path, "logs"));
        // Rotates at 16 bytes: small enough to rotate on demand.
        _files = new LogFiles(new DataFolders(_data.Path), maxBytes: 32);
    }

    public void Dispose() => _data.Dispose();

    [Fact]
    public void A_reader_follows_its_bytes_into_the_rotated_file_and_on_into_the_truncated_log()
    {
        Append("a1\na2\n");
        using var reader = LogFileReader.Open(_files, _id, tail: null);
        Assert.Equal("a1\na2\n", ReadAll(reader));

        Append("b1\nb2\nb3\nb4\n");             // 18 bytes in all: full
        Assert.True(_files.RotateIfFull(_id));
        Append("c1\n");

        Assert.Equal("b1\nb2\nb3\nb4\nc1\n", ReadAll(reader));
        Assert.Equal("c1\n", File.ReadAllText(_files.CurrentOf(_id)));
    }

    [Fact]
    public void A_reader_inside_the_old_rotated_file_finishes_it_then_reads_the_next_generation_whole()
    {
        Append("a1\na2\na3\na4\na5\na6\n");       // 18 bytes
        Assert.True(_files.RotateIfFull(_id));  // .log.1 = the newest 16 bytes from a line start: a2..a6
        Append("b1\nb2\nb3\nb4\nb5\nb6\n");
        using var reader = LogFileReader.Open(_files, _id, tail: 8); // opening rotates again first: .log.1 = b2..b6

        Assert.Equal("b2\nb3\nb4\nb5\nb6\n", ReadAll(reader));
        Append("c1\n");
        Assert.Equal("c1\n", ReadAll(reader));
    }

    [Fact]
    public void Tail_counts_lines_across_the_rotated_file_and_the_log_joining_a_line_split_between_them()
    {
        File.WriteAllText(_files.RotatedOf(_id), "r1\nr2\nsp");
        Append("lit\nx1\n");

        Assert.Equal("r2\nsplit\nx1\n", ReadAll(LogFileReader.Open(_files, _id, tail: 3)));
        Assert.Equal("r1\nr2\nsplit\nx1\n", ReadAll(LogFileReader.Open(_files, _id, tail: 10)));
        Assert.Equal("", ReadAll(LogFileReader.Open(_files, _id, tail: 0)));
    }

    [Fact]
    public void A_tail_of_0_starts_at_the_partial_last_line_so_a_follow_gets_it_whole()
    {
        Append("old\npar");
        using var reader = LogFileReader.Open(_files, _id, tail: 0);

        Append("tial\n");

        Assert.Equal("partial\n", ReadAll(reader));
    }

    [Fact]
    public void Delete_removes_both_generations()
    {
        Append("0123456789abcdefgh\n");
        _files.RotateIfFull(_id);
        Append("x\n");

        _files.Delete(_id);

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_data.Path, "logs")));
    }

    private void Append(string text) => File.AppendAllText(_files.CurrentOf(_id), text);

    private static string ReadAll(LogFileReader reader)
    {
        var text = new StringBuilder();
        var buffer = new byte[5]; // small reads: positions in the middle of lines
        int read;
        while ((read = reader.Read(buffer)) > 0) text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        return text.ToString();
    }
}
