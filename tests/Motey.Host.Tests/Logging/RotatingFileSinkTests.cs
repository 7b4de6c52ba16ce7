using Motey.Host.Logging;
using Motey.Host.Tests.Infrastructure;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;

namespace Motey.Host.Tests.Logging;

public sealed class RotatingFileSinkTests
{
    private static LogEvent Line(int n) => new(DateTimeOffset.UtcNow, LogEventLevel.Information, null,
        new MessageTemplateParser().Parse($"line {n} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), []);

    private static RotatingFileSink Sink(string path, int rolledFiles) =>
        new(path, new MessageTemplateTextFormatter("{Message}{NewLine}"), limitBytes: 1000, rolledFiles);

    [Fact]
    public void The_current_file_keeps_the_configured_name_and_the_rolled_ones_are_numbered_beside_it()
    {
        using var folder = new TestFolder();
        var path = Path.Combine(folder.Path, "logs", "application.log");
        using (var sink = Sink(path, rolledFiles: 3))
        {
            for (var n = 0; n < 100; n++) sink.Emit(Line(n));
        }

        Assert.Equal(["application.log", "application.log.1", "application.log.2", "application.log.3"],
            Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("line 99 ", File.ReadAllText(path));
        Assert.DoesNotContain("line 99 ", File.ReadAllText(path + ".1"));
        Assert.All(Directory.GetFiles(Path.GetDirectoryName(path)!), f => Assert.InRange(new FileInfo(f).Length, 1, 1100));
    }

    [Fact]
    public void A_restarted_agent_appends_to_the_same_file()
    {
        using var folder = new TestFolder();
        var path = Path.Combine(folder.Path, "motey.log");
        using (var first = Sink(path, rolledFiles: 2)) first.Emit(Line(1));
        using (var second = Sink(path, rolledFiles: 2)) second.Emit(Line(2));

        Assert.Equal(["line 1", "line 2"], File.ReadAllLines(path).Select(l => l[..6]));
    }

    [Fact]
    public void A_log_folder_the_agent_cannot_create_fails_at_once()
    {
        using var folder = new TestFolder();
        var blocker = Path.Combine(folder.Path, "not-a-folder");
        File.WriteAllText(blocker, "");
        Assert.ThrowsAny<IOException>(() => Sink(Path.Combine(blocker, "motey.log"), rolledFiles: 2));
    }
}
