using System.Text.RegularExpressions;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Logging;

/// <summary>The lines of the log file: in the file [LOGGER] names, each carrying [LOGGER] name as the original's did.</summary>
public sealed partial class LogLinesTests
{
    [Fact]
    public async Task Every_line_of_the_log_file_carries_the_logger_name_and_the_file_is_named_as_configured()
    {
        using var folder = new TestFolder();
        await using (var node = await TestNode.StartAsync(folder, [TestNode.Simulated], new Dictionary<string, string>
        {
            ["LOGGER:name"] = "fog-log",
            ["LOGGER:log_path"] = "var/log/motey/",
            ["LOGGER:file_name"] = "application.log",
        }))
        {
            using var heartbeat = await node.Client.GetAsync("/v1/heartbeat");
        }

        var folderOfLogs = Path.Combine(folder.Path, "var", "log", "motey");
        Assert.Equal(["application.log"], Directory.GetFiles(folderOfLogs).Select(Path.GetFileName));
        var lines = (await ReadSharedAsync(Path.Combine(folderOfLogs, "application.log"))).Split('\n').Where(l => Stamp().IsMatch(l)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.Matches(@"^\S+ \S+ \S+ \[[A-Z]{3}\] fog-log: \S+: ", line));
        Assert.Contains(lines, line => line.Contains("] fog-log: Motey.Host.Peers.CapabilityEventListener: Listening for capability events on ", StringComparison.Ordinal));
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>A line that starts an event (exceptions continue on lines of their own).</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} ")]
    private static partial Regex Stamp();
}
