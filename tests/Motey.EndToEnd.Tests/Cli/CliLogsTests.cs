using System.Text.Json;
using System.Text.RegularExpressions;

namespace Motey.EndToEnd.Tests.Cli;

/// <summary>An agent whose simulated instances print a line every 100 ms, for the logs commands.</summary>
public sealed class ChattyAgent : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-cli-logs-").FullName;
    private AgentProcess? _agent;

    internal AgentProcess Agent => _agent ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _agent = AgentProcess.Start(_folder, settings: new Dictionary<string, string>
        {
            ["SIMULATED:start_delay_ms"] = "100",
            ["SIMULATED:log_interval_ms"] = "100",
        });
        await _agent.WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null) await _agent.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    internal string[] Args(params string[] args) => [.. args, "--config", Path.Combine(_folder, "config.ini")];

    internal Task<CliResult> MoteyAsync(params string[] args) => MoteyCli.RunAsync(Args(args));

    /// <summary>Deploys a simulated service through the CLI and waits until it runs.</summary>
    internal async Task DeployAsync(string name, string images = "  - name: chatter\n    engine: simulated\n")
    {
        var result = await MoteyCli.RunAsync(Args("service", "deploy", "-"), $"service_name: {name}\nimages:\n{images}");
        Assert.True(result.Code == 0, result.ToString());
    }
}

/// <summary>`motey service logs` as an operator runs it: real `motey` processes against a real agent's simulated instances.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class CliLogsTests(ChattyAgent node) : IClassFixture<ChattyAgent>
{
    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Logs_print_what_the_instance_printed_and_tail_json_and_timestamps_shape_it()
    {
        await node.DeployAsync("logged");

        var all = await Wait.ForAsync(() => node.MoteyAsync("service", "logs", "logged"), r => r.Code == 0 && Lines(r.Out).Length >= 4,
            "the instance has printed four lines", r => r.ToString());
        Assert.Matches(@"^simulated instance \S+ of chatter starting\n", all.Out);
        Assert.Contains("running", all.Out);

        var tail = await node.MoteyAsync("service", "logs", "logged", "--tail", "1");
        Assert.True(tail.Code == 0, tail.ToString());
        Assert.Single(Lines(tail.Out));

        var json = await node.MoteyAsync("service", "logs", "logged", "--tail", "2", "--json");
        Assert.True(json.Code == 0, json.ToString());
        var lines = Lines(json.Out).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.StartsWith("simulated instance", l.GetProperty("text").GetString()));

        var stamped = await node.MoteyAsync("service", "logs", "logged", "--tail", "2", "-t");
        Assert.True(stamped.Code == 0, stamped.ToString());
        Assert.All(Lines(stamped.Out), l => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) simulated instance ", l));
    }

    [Fact]
    public async Task Logs_follow_prints_new_lines_as_they_come_and_ends_when_the_instance_ends()
    {
        await node.DeployAsync("followed");
        await using var follow = MoteyCli.Start(node.Args("service", "logs", "followed", "-f", "--tail", "0"));

        await Wait.UntilAsync(() => Lines(follow.Out).Length >= 3, "three new lines have come", TimeSpan.FromSeconds(30),
            detail: () => follow.Out + follow.Error);
        var seen = Lines(follow.Out).Length;
        await Wait.UntilAsync(() => Lines(follow.Out).Length > seen, "more lines come while it follows", TimeSpan.FromSeconds(30),
            detail: () => follow.Out + follow.Error);
        Assert.False(follow.HasExited, "it follows until the instance ends");

        var rm = await node.MoteyAsync("service", "rm", "followed");
        Assert.True(rm.Code == 0, rm.ToString());
        var ended = await follow.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(ended.Code == 0, ended.ToString());
    }

    [Fact]
    public async Task Logs_of_a_service_with_two_images_need_image_and_take_its_name_or_index()
    {
        await node.DeployAsync("pair", "  - name: first\n    engine: simulated\n  - name: second\n    engine: simulated\n");

        var unnamed = await node.MoteyAsync("service", "logs", "pair");
        Assert.Equal(1, unnamed.Code);
        Assert.Contains("has 2 images: 0 (first), 1 (second)", unnamed.Error);

        var byName = await Wait.ForAsync(() => node.MoteyAsync("service", "logs", "pair", "--image", "second"), r => r.Code == 0 && r.Out.Length > 0,
            "the second image has printed", r => r.ToString());
        Assert.Matches(@"^simulated instance \S+ of second\b", byName.Out);
        var byIndex = await node.MoteyAsync("service", "logs", "pair", "--image", "0", "--tail", "1");
        Assert.Matches(@"^simulated instance \S+ of first\b", byIndex.Out);
    }
}
