using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>The restart policy on its own: which ended instances are replaced, after how long, and what the image says.</summary>
public sealed class RestartDecisionTests
{
    private static readonly OrchestratorSettings Settings = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));

    private static Image Ended(int restarts = 0, string? policy = null) => new()
    {
        Id = "c0ffee", Name = "sensor", Engine = "simulated", Node = "10.0.0.2", State = ImageState.Running, Restarts = restarts,
        Parameters = policy is null ? new Dictionary<string, JsonElement>()
            : new Dictionary<string, JsonElement> { [RestartPolicies.Key] = JsonDocument.Parse(policy).RootElement.Clone() },
    };

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(4, 60)]
    [InlineData(10, 60)]
    [InlineData(1000, 60)]
    public void The_backoff_doubles_with_each_restart_and_stops_at_the_maximum(int restarts, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Settings.Backoff(restarts));

        var decision = RestartDecision.For(Ended(restarts), exitCode: 1, nodeLeft: false, Settings);

        Assert.True(decision.Restart);
        Assert.Equal(TimeSpan.FromSeconds(seconds), decision.Delay);
        Assert.Equal($"instance c0ffee ended with exit code 1; restart {restarts + 1} in {seconds} s (restart policy on-failure)", decision.Message);
    }

    [Theory]
    [InlineData(null, 1, true, ImageState.Instantiating)]
    [InlineData(null, 0, false, ImageState.Terminated)]
    [InlineData("\"on-failure\"", 137, true, ImageState.Instantiating)]
    [InlineData("\"always\"", 0, true, ImageState.Instantiating)]
    [InlineData("{\"Name\": \"unless-stopped\"}", 0, true, ImageState.Instantiating)]
    [InlineData("\"never\"", 1, false, ImageState.Error)]
    [InlineData("\"never\"", 0, false, ImageState.Terminated)]
    [InlineData("{\"Name\": \"no\"}", 2, false, ImageState.Error)]
    public void The_policy_decides_whether_an_ended_instance_is_replaced(string? policy, int exitCode, bool restart, ImageState state)
    {
        var decision = RestartDecision.For(Ended(policy: policy), exitCode, nodeLeft: false, Settings);

        Assert.Equal(restart, decision.Restart);
        Assert.Equal(state, decision.State);
    }

    [Fact]
    public void An_instance_whose_node_left_is_not_restarted_under_never_and_is_in_error()
    {
        var decision = RestartDecision.For(Ended(policy: "\"never\""), exitCode: null, nodeLeft: true, Settings);

        Assert.False(decision.Restart);
        Assert.Equal(ImageState.Error, decision.State);
        Assert.Equal("node 10.0.0.2 left the cluster with instance c0ffee; not restarted (restart policy never)", decision.Message);
    }
}
