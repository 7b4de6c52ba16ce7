using Motey.Abstractions;
using Motey.Val.Simulated;
using static Motey.Plugins.Tests.TestSupport;

namespace Motey.Plugins.Tests;

public sealed class SimulatedValTests : IDisposable
{
    private readonly TempDirectory _data = new("motey-plugins-tests-");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task An_instance_is_instantiating_for_the_start_delay_then_running()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "1000" });
        var id = await val.CreateInstanceAsync(Spec("anything"), default);
        Assert.Equal(ImageState.Initial, await val.GetInstanceStateAsync(id, default));

        await val.StartInstanceAsync(id, default);
        Assert.Equal(ImageState.Instantiating, await val.GetInstanceStateAsync(id, default));

        await Wait.UntilAsync(async () => await val.GetInstanceStateAsync(id, default) == ImageState.Running, "the instance runs", Deadline);
    }

    [Fact]
    public async Task The_start_delay_parameter_overrides_the_setting()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "600000" });
        var id = await val.CreateInstanceAsync(Spec("anything", """{"start_delay_ms": 0}"""), default);

        await val.StartInstanceAsync(id, default);

        Assert.Equal(ImageState.Running, await val.GetInstanceStateAsync(id, default));
    }

    [Fact]
    public async Task An_instance_with_fail_goes_to_error_after_the_delay()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "50" });
        var id = await val.CreateInstanceAsync(Spec("anything", """{"fail": true}"""), default);

        await val.StartInstanceAsync(id, default);

        await Wait.UntilAsync(async () => await val.GetInstanceStateAsync(id, default) == ImageState.Error, "the instance failed", Deadline);
        Assert.DoesNotContain(await val.GetRunningInstancesAsync(default), i => i.Id == id);
    }

    [Fact]
    public async Task With_failure_rate_one_every_instance_fails_unless_told_not_to()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0", ["failure_rate"] = "1.0", ["seed"] = "42" });
        var failing = await val.CreateInstanceAsync(Spec("anything"), default);
        var spared = await val.CreateInstanceAsync(Spec("anything", """{"fail": false}"""), default);

        await val.StartInstanceAsync(failing, default);
        await val.StartInstanceAsync(spared, default);

        Assert.Equal(ImageState.Error, await val.GetInstanceStateAsync(failing, default));
        Assert.Equal(ImageState.Running, await val.GetInstanceStateAsync(spared, default));
    }

    [Theory]
    [InlineData("start_delay_ms", "-1")]
    [InlineData("start_delay_ms", "soon")]
    [InlineData("failure_rate", "1.5")]
    [InlineData("failure_rate", "half")]
    [InlineData("failure_rate", "NaN")]
    [InlineData("seed", "0x2A")]
    [InlineData("log_interval_ms", "0")]
    [InlineData("log_interval_ms", "often")]
    public async Task An_invalid_setting_fails_activation_naming_the_key_and_value(string key, string value)
    {
        var val = new SimulatedVal();
        var error = await Assert.ThrowsAsync<ValException>(() =>
            val.ActivateAsync(Context(_data.Path, new Dictionary<string, string?> { [key] = value }), default));
        Assert.Contains(key, error.Message);
        Assert.Contains($"'{value}'", error.Message);
    }

    [Fact]
    public async Task Stop_terminates_at_once_and_a_stopped_instance_can_start_again()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0" });
        var id = await val.CreateInstanceAsync(Spec("anything"), default);
        await val.StartInstanceAsync(id, default);

        await val.StopInstanceAsync(id, default);
        Assert.Equal(ImageState.Terminated, await val.GetInstanceStateAsync(id, default));
        Assert.True(await val.HasInstanceAsync(id, default));

        await val.StartInstanceAsync(id, default);
        Assert.Equal(ImageState.Running, await val.GetInstanceStateAsync(id, default));
    }

    [Fact]
    public async Task Running_instances_are_listed_with_their_labels_until_removed()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0" });
        var labels = new Dictionary<string, string> { [InstanceLabels.ServiceId] = "s1" };
        var id = await val.CreateInstanceAsync(Spec("web", labels: labels), default);
        await val.StartInstanceAsync(id, default);

        var listed = Assert.Single(await val.GetRunningInstancesAsync(default));
        Assert.Equal((id, "web"), (listed.Id, listed.ImageName));
        Assert.Equal(labels, listed.Labels);

        await val.RemoveInstanceAsync(id, default);
        Assert.False(await val.HasInstanceAsync(id, default));
        Assert.Equal(ImageState.Terminated, await val.GetInstanceStateAsync(id, default));
        Assert.Empty(await val.GetRunningInstancesAsync(default));
        await val.RemoveInstanceAsync(id, default);
    }

    [Fact]
    public async Task Stats_are_plausible_and_the_same_for_an_id_every_time()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0" });
        var first = await val.CreateInstanceAsync(Spec("a"), default);
        var second = await val.CreateInstanceAsync(Spec("b"), default);
        await val.StartInstanceAsync(first, default);
        await val.StartInstanceAsync(second, default);

        var stats = await val.GetStatsAsync(first, default);
        Assert.NotNull(stats);
        Assert.Equal(ImageState.Running, stats.Status);
        Assert.InRange(stats.UsedMemory, 1L << 20, 1L << 30);
        Assert.InRange(stats.UsedCpu, 0, 100);
        Assert.Equal(stats, await val.GetStatsAsync(first, default));

        var all = await val.GetAllInstancesStatsAsync(default);
        Assert.Equal(stats.UsedMemory + (await val.GetStatsAsync(second, default))!.UsedMemory, all.UsedMemory);
        Assert.Null(await val.GetStatsAsync("sim-unknown", default));
    }

    [Fact]
    public async Task Every_image_exists()
    {
        var val = await ActivateAsync(new());
        Assert.True(await val.HasImageAsync("whatever/you:like", default));
        await val.LoadImageAsync("whatever/you:like", default);
        await val.DeleteImageAsync("whatever/you:like", default);
        Assert.True(await val.HasImageAsync("whatever/you:like", default));
    }

    [Theory]
    [InlineData("""{"start_delay_ms": "fast"}""", "parameters.start_delay_ms: expected a whole number of milliseconds >= 0, got string")]
    [InlineData("""{"start_delay_ms": -5}""", "parameters.start_delay_ms: expected a whole number of milliseconds >= 0, got -5")]
    [InlineData("""{"fail": "yes"}""", "parameters.fail: expected a boolean, got string")]
    [InlineData("""{"ports": {}}""", "parameters.ports: unknown parameter (known: start_delay_ms, fail)")]
    public async Task ValidateParameters_refuses_with_a_message_naming_the_key(string parameters, string message)
    {
        var val = await ActivateAsync(new());
        Assert.Equal([message], val.ValidateParameters(Parameters(parameters)));
        await Assert.ThrowsAsync<ValException>(() => val.CreateInstanceAsync(Spec("a", parameters), default));
    }

    [Fact]
    public async Task Starting_an_unknown_instance_is_refused()
    {
        var val = await ActivateAsync(new());
        await Assert.ThrowsAsync<ValException>(() => val.StartInstanceAsync("sim-unknown", default));
    }

    [Fact]
    public async Task An_instance_prints_starting_running_then_a_line_every_interval_and_stopped()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0", ["log_interval_ms"] = "10" });
        var id = await val.CreateInstanceAsync(Spec("web"), default);
        await val.StartInstanceAsync(id, default);
        await Wait.UntilAsync(async () => (await ReadAsync(val, id, new LogRequest())).Count >= 5, "the instance has printed 5 lines");
        await val.StopInstanceAsync(id, default);

        var lines = await ReadAsync(val, id, new LogRequest());

        Assert.Equal($"simulated instance {id} of web starting", lines[0].Text);
        Assert.Equal($"simulated instance {id} of web running", lines[1].Text);
        Assert.Equal($"simulated instance {id} of web: line 1", lines[2].Text);
        Assert.Equal($"simulated instance {id} of web stopped", lines[^1].Text);
        Assert.All(lines, l => Assert.Equal(LogSource.Stdout, l.Source));
        Assert.Equal(lines.OrderBy(l => l.Time).Select(l => l.Text), lines.Select(l => l.Text));
        Assert.Equal(lines[^2..].Select(l => l.Text), (await ReadAsync(val, id, new LogRequest(Tail: 2))).Select(l => l.Text));
    }

    [Fact]
    public async Task Only_the_last_thousand_lines_are_kept()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0", ["log_interval_ms"] = "1" });
        var id = await val.CreateInstanceAsync(Spec("web"), default);
        await val.StartInstanceAsync(id, default);
        await Wait.UntilAsync(async () => LineNumber((await ReadAsync(val, id, new LogRequest(Tail: 1)))[0].Text) > 1_200,
            "the instance has printed more than 1,200 lines");

        var lines = await ReadAsync(val, id, new LogRequest());

        Assert.Equal(1_000, lines.Count);
        Assert.DoesNotContain(lines, l => l.Text.EndsWith("starting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Following_yields_new_lines_and_ends_when_the_instance_is_stopped()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0", ["log_interval_ms"] = "10" });
        var id = await val.CreateInstanceAsync(Spec("web"), default);
        await val.StartInstanceAsync(id, default);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var seen = new List<string>();
        await foreach (var line in val.ReadLogsAsync(id, new LogRequest(Tail: 0, Follow: true), deadline.Token))
        {
            seen.Add(line.Text);
            if (seen.Count == 3) await val.StopInstanceAsync(id, default);
        }

        Assert.True(seen.Count >= 4, string.Join("\n", seen));
        Assert.Equal($"simulated instance {id} of web stopped", seen[^1]);
    }

    [Fact]
    public async Task A_failing_instance_prints_failed_on_standard_error_and_following_ends()
    {
        var val = await ActivateAsync(new() { ["start_delay_ms"] = "0" });
        var id = await val.CreateInstanceAsync(Spec("web", """{"fail": true}"""), default);
        await val.StartInstanceAsync(id, default);

        var lines = await ReadAsync(val, id, new LogRequest(Follow: true));

        Assert.Equal([$"simulated instance {id} of web starting", $"simulated instance {id} of web failed"], lines.Select(l => l.Text));
        Assert.Equal(LogSource.Stderr, lines[1].Source);
    }

    [Fact]
    public async Task A_new_version_of_the_val_on_the_same_data_folder_finds_the_instances_with_their_ids_and_states()
    {
        var before = await ActivateAsync(new() { ["start_delay_ms"] = "0" });
        var running = await before.CreateInstanceAsync(Spec("web"), default);
        await before.StartInstanceAsync(running, default);
        var created = await before.CreateInstanceAsync(Spec("db"), default);
        var stopped = await before.CreateInstanceAsync(Spec("job"), default);
        await before.StartInstanceAsync(stopped, default);
        await before.StopInstanceAsync(stopped, default);

        // A hot reload (both versions active at once) or an agent restart: another VAL object on the same folder.
        var after = await ActivateAsync(new() { ["start_delay_ms"] = "0" });

        Assert.Equal(ImageState.Running, await after.GetInstanceStateAsync(running, default));
        Assert.Equal(ImageState.Initial, await after.GetInstanceStateAsync(created, default));
        Assert.Equal(ImageState.Terminated, await after.GetInstanceStateAsync(stopped, default));
        Assert.Equal(new HashSet<string> { running, created }, (await after.GetRunningInstancesAsync(default)).Select(i => i.Id).ToHashSet());
        // Starting a running instance again does nothing: it is not started a second time.
        await after.StartInstanceAsync(running, default);
        var lines = await ReadAsync(after, running, new LogRequest());
        Assert.DoesNotContain(lines, l => l.Text.EndsWith("starting", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Text == $"simulated instance {running} of web running");

        // One the old version creates while the new one is already active is found too.
        var late = await before.CreateInstanceAsync(Spec("late"), default);
        Assert.Contains(await after.GetRunningInstancesAsync(default), i => i.Id == late);
        await after.RemoveInstanceAsync(late, default);
        var again = await ActivateAsync(new() { ["start_delay_ms"] = "0" });
        Assert.False(await again.HasInstanceAsync(late, default));
    }

    private static int LineNumber(string text) =>
        int.TryParse(text[(text.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static async Task<List<LogLine>> ReadAsync(SimulatedVal val, string id, LogRequest request)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var lines = new List<LogLine>();
        await foreach (var line in val.ReadLogsAsync(id, request, deadline.Token)) lines.Add(line);
        return lines;
    }

    private async Task<SimulatedVal> ActivateAsync(Dictionary<string, string?> settings)
    {
        var val = new SimulatedVal();
        await val.ActivateAsync(Context(_data.Path, settings), default);
        Assert.Equal("simulated", val.PluginType);
        return val;
    }
}
