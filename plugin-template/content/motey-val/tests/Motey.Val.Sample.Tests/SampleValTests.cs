using Motey.Abstractions;
using static Motey.Val.Sample.Tests.TestSupport;

namespace Motey.Val.Sample.Tests;

public sealed class SampleValTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public void The_plugin_type_is_the_engine_name_the_agent_accepts()
    {
        // The agent takes lower case letters, digits, '_', '.' and '-'; the section is the type in capitals.
        Assert.Matches("^[a-z0-9_.-]+$", new SampleVal().PluginType);
        Assert.Equal("sample", new SampleVal().PluginType);
    }

    [Fact]
    public async Task A_deployed_instance_runs_and_is_terminated_after_stop_and_remove()
    {
        var val = await ActivateAsync();

        var id = await DeployAsync(val, "hello", """{"command": ["serve", "--port", 8080], "environment": {"LEVEL": "debug"}}""");
        Assert.Equal(ImageState.Running, await val.GetInstanceStateAsync(id, None));
        Assert.True(await val.HasInstanceAsync(id, None));

        await val.StopInstanceAsync(id, None);
        Assert.Equal(ImageState.Terminated, await val.GetInstanceStateAsync(id, None));
        Assert.Equal(0, (await val.GetStatsAsync(id, None))!.ExitCode);

        await val.RemoveInstanceAsync(id, None);
        Assert.False(await val.HasInstanceAsync(id, None));
        Assert.Equal(ImageState.Terminated, await val.GetInstanceStateAsync(id, None));
        Assert.Null(await val.GetStatsAsync(id, None));
        await val.RemoveInstanceAsync(id, None);  // removing what is gone is not an error
    }

    [Fact]
    public async Task An_instance_is_initial_until_started_and_a_stopped_one_starts_again()
    {
        var val = await ActivateAsync();
        await val.LoadImageAsync("hello", None);
        var id = await val.CreateInstanceAsync(Spec("hello"), None);
        Assert.Equal(ImageState.Initial, await val.GetInstanceStateAsync(id, None));

        await val.StartInstanceAsync(id, None);
        await val.StopInstanceAsync(id, None);
        await val.StartInstanceAsync(id, None);

        Assert.Equal(ImageState.Running, await val.GetInstanceStateAsync(id, None));
    }

    [Fact]
    public async Task Running_instances_are_listed_with_the_agents_labels_and_ended_ones_are_not()
    {
        var val = await ActivateAsync();
        var running = await DeployAsync(val, "hello");
        var stopped = await DeployAsync(val, "hello");
        await val.StopInstanceAsync(stopped, None);

        var listed = Assert.Single(await val.GetRunningInstancesAsync(None));

        Assert.Equal(running, listed.Id);
        Assert.Equal("hello", listed.ImageName);
        Assert.Equal(AgentLabels, listed.Labels);
    }

    [Fact]
    public async Task An_instance_of_an_image_that_is_not_loaded_is_refused_naming_the_image()
    {
        var val = await ActivateAsync();

        var error = await Assert.ThrowsAsync<ValException>(() => val.CreateInstanceAsync(Spec("missing"), None));

        Assert.Contains("'missing'", error.Message);
    }

    [Fact]
    public async Task Starting_an_unknown_instance_is_refused()
    {
        var val = await ActivateAsync();

        await Assert.ThrowsAsync<ValException>(() => val.StartInstanceAsync("no-such-instance", None));
    }

    [Fact]
    public async Task Loading_an_image_makes_it_present_and_deleting_removes_it()
    {
        var val = await ActivateAsync();
        Assert.False(await val.HasImageAsync("hello", None));

        await val.LoadImageAsync("hello", None);
        Assert.True(await val.HasImageAsync("hello", None));

        await val.DeleteImageAsync("hello", None);
        Assert.False(await val.HasImageAsync("hello", None));
    }

    [Fact]
    public async Task Max_instances_limits_the_instances_that_have_not_ended()
    {
        var val = await ActivateAsync(new Dictionary<string, string?> { ["max_instances"] = "1" });
        var first = await DeployAsync(val, "hello");

        var error = await Assert.ThrowsAsync<ValException>(() => DeployAsync(val, "hello"));
        Assert.Contains("max_instances", error.Message);

        await val.StopInstanceAsync(first, None);
        await DeployAsync(val, "hello");
    }

    [Theory]
    [InlineData("max_instances", "-1")]
    [InlineData("max_instances", "many")]
    public async Task An_invalid_setting_fails_activation_naming_the_key_and_the_value(string key, string value)
    {
        var error = await Assert.ThrowsAsync<ValException>(() => ActivateAsync(new Dictionary<string, string?> { [key] = value }));

        Assert.Contains($"[SAMPLE] {key}", error.Message);
        Assert.Contains($"'{value}'", error.Message);
    }

    [Fact]
    public async Task Stats_name_the_image_and_the_state_and_once_stopped_the_exit_code()
    {
        var val = await ActivateAsync();
        var id = await DeployAsync(val, "hello");

        var running = (await val.GetStatsAsync(id, None))!;
        Assert.Equal(("hello", ImageState.Running, (int?)null), (running.ImageName, running.Status, running.ExitCode));

        await val.StopInstanceAsync(id, None);
        var stopped = (await val.GetStatsAsync(id, None))!;
        Assert.Equal((ImageState.Terminated, (int?)0), (stopped.Status, stopped.ExitCode));
        Assert.Equal(0, (await val.GetAllInstancesStatsAsync(None)).UsedMemory);  // nothing runs any more
    }

    [Fact]
    public async Task The_engine_answers_once_activated()
    {
        var val = await ActivateAsync();

        Assert.Equal(EngineHealth.Available, await val.CheckEngineAsync(None));
    }

    [Fact]
    public async Task The_output_reads_with_tail_and_a_follow_gets_new_lines_until_the_instance_ends()
    {
        var val = await ActivateAsync();
        var id = await DeployAsync(val, "hello");
        await val.StopInstanceAsync(id, None);
        await val.StartInstanceAsync(id, None);

        var all = await ReadAsync(val, id, new LogRequest());
        Assert.Equal([$"sample instance {id} of hello running", $"sample instance {id} stopped", $"sample instance {id} of hello running"],
            all.Select(l => l.Text));
        Assert.Equal([all[^1]], await ReadAsync(val, id, new LogRequest(Tail: 1)));

        var following = ReadAsync(val, id, new LogRequest(Tail: 0, Follow: true));
        Assert.False(following.IsCompleted);  // waits for the next line
        await val.StopInstanceAsync(id, None);

        var followed = await following.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([$"sample instance {id} stopped"], followed.Select(l => l.Text));  // and the follow ended with the instance
        await Assert.ThrowsAsync<ValException>(() => ReadAsync(val, "no-such-instance", new LogRequest()));
    }

    private static async Task<List<LogLine>> ReadAsync(SampleVal val, string id, LogRequest request)
    {
        var lines = new List<LogLine>();
        await foreach (var line in val.ReadLogsAsync(id, request, None)) lines.Add(line);
        return lines;
    }
}
