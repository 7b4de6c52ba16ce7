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

    private async Task<SimulatedVal> ActivateAsync(Dictionary<string, string?> settings)
    {
        var val = new SimulatedVal();
        await val.ActivateAsync(Context(_data.Path, settings), default);
        Assert.Equal("simulated", val.PluginType);
        return val;
    }
}
