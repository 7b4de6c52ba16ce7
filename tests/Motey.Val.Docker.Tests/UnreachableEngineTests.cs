using Motey.Abstractions;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>An engine that is not there: the agent may start before it, and must learn why it cannot be used.</summary>
public sealed class UnreachableEngineTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new("motey-docker-tests-");
    private readonly DockerVal _val = new();
    private string _url = "";

    public Task InitializeAsync()
    {
        // A socket path in a fresh folder: nothing listens there.
        _url = $"unix://{_folder.Path}/nope.sock";
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _val.DeactivateAsync(default);
        _folder.Dispose();
    }

    [Fact]
    public async Task Activation_succeeds_and_the_health_check_names_the_url()
    {
        await _val.ActivateAsync(Context(new Dictionary<string, string?> { ["url"] = _url }), default);

        var health = await _val.CheckEngineAsync(default);

        Assert.False(health.IsAvailable);
        Assert.Equal($"docker engine at {_url} does not answer: there is no socket {_folder.Path}/nope.sock (is dockerd running?)", health.Problem);
    }

    [Fact]
    public async Task Every_call_fails_with_a_message_naming_the_url()
    {
        await _val.ActivateAsync(Context(new Dictionary<string, string?> { ["url"] = _url }), default);
        var unreachable = $"docker engine at {_url} is not reachable: ";

        var create = await Assert.ThrowsAsync<ValException>(() => _val.CreateInstanceAsync(Spec(LocalDocker.Busybox), default));
        Assert.StartsWith(unreachable, create.Message);

        Func<Task>[] calls =
        [
            () => _val.HasImageAsync(LocalDocker.Busybox, default),
            () => _val.LoadImageAsync(LocalDocker.Busybox, default),
            () => _val.DeleteImageAsync(LocalDocker.Busybox, default),
            () => _val.StartInstanceAsync("abc", default),
            () => _val.StopInstanceAsync("abc", default),
            () => _val.RemoveInstanceAsync("abc", default),
            () => _val.HasInstanceAsync("abc", default),
            () => _val.GetRunningInstancesAsync(default),
            () => _val.GetStatsAsync("abc", default),
            () => _val.GetAllInstancesStatsAsync(default),
            () => _val.GetInstanceStateAsync("abc", default),
        ];
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ValException>(call);
            Assert.StartsWith(unreachable, error.Message);
        }
    }

    [Fact]
    public async Task A_tcp_engine_that_refuses_connections_is_unavailable_too()
    {
        var url = "tcp://127.0.0.1:1";
        await _val.ActivateAsync(Context(new Dictionary<string, string?> { ["url"] = url }), default);

        var health = await _val.CheckEngineAsync(default);

        Assert.False(health.IsAvailable);
        Assert.Contains(url, health.Problem);
    }

    [Fact]
    [Trait(Categories.Name, Categories.Docker)]
    public async Task The_engine_that_runs_here_is_available()
    {
        using var client = await TestEngine.ConnectAsync();
        await _val.ActivateAsync(Context(), default); // the default url

        Assert.Equal(EngineHealth.Available, await _val.CheckEngineAsync(default));
    }

    [Fact]
    public async Task A_val_that_is_not_active_is_unavailable_and_its_calls_say_so()
    {
        Assert.False((await _val.CheckEngineAsync(default)).IsAvailable);
        var error = await Assert.ThrowsAsync<ValException>(() => _val.HasInstanceAsync("abc", default));
        Assert.Contains("not active", error.Message);
    }
}
