using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>
/// What a reconcile pass makes of an instance that ended by itself, per the image's restart policy, with time moved
/// by the test: the local node cannot run the image, two peers can (10.0.0.2 first).
/// </summary>
public sealed class RestartTests
{
    private static readonly TimeSpan FirstBackoff = Cluster.Settings.RestartBackoff;

    private readonly FakeNode _first = new("10.0.0.2", "gpu");
    private readonly FakeNode _second = new("10.0.0.3", "gpu");
    private readonly Cluster _cluster;

    public RestartTests() => _cluster = new Cluster(new FakeNode("10.0.0.1"), _first, _second);

    /// <summary>Deploys the image (on the first peer) and ends its instance there with the exit code.</summary>
    private async Task<(string ServiceId, string InstanceId)> DeployAndEndAsync(Image image, int? exitCode)
    {
        var service = await _cluster.DeployAsync(image);
        var instance = service.Images[0].Id;
        Assert.Equal(_first.Address, service.Images[0].Node);
        _first.ExitCode = exitCode;
        _first.End(instance);
        return (service.Id, instance);
    }

    [Fact]
    public async Task An_instance_that_failed_is_replaced_after_the_backoff_under_the_default_policy()
    {
        var (serviceId, instance) = await DeployAndEndAsync(Cluster.ImageNeeding("gpu"), exitCode: 1);

        await _cluster.ReconcileAsync();

        var waiting = _cluster.Image(serviceId);
        Assert.Equal(ImageState.Instantiating, waiting.State);
        Assert.Equal($"instance {instance} ended with exit code 1; restart 1 in 5 s (restart policy on-failure)", waiting.StateMessage);
        Assert.Equal(ServiceState.Instantiating, _cluster.Store.Get(serviceId).State);

        await _cluster.ReconcileAsync();
        Assert.Equal(0, _cluster.InstancesRunning);

        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();

        var replaced = _cluster.Image(serviceId);
        Assert.Equal(ImageState.Running, replaced.State);
        Assert.Equal(1, replaced.Restarts);
        Assert.Equal("", replaced.StateMessage);
        Assert.NotEqual(instance, replaced.Id);
        Assert.Equal(1, _cluster.InstancesRunning);
        Assert.Equal([replaced.Id], _first.Running);
    }

    [Fact]
    public async Task An_instance_that_ended_with_an_unknown_exit_code_counts_as_failed()
    {
        var (serviceId, instance) = await DeployAndEndAsync(Cluster.ImageNeeding("gpu"), exitCode: null);

        await _cluster.ReconcileAsync();

        Assert.Equal($"instance {instance} ended (exit code unknown); restart 1 in 5 s (restart policy on-failure)", _cluster.Image(serviceId).StateMessage);
    }

    [Fact]
    public async Task An_instance_that_exited_cleanly_under_on_failure_is_terminated_and_not_restarted()
    {
        var (serviceId, instance) = await DeployAndEndAsync(Cluster.ImageNeeding("gpu"), exitCode: 0);

        await _cluster.ReconcileAsync();
        _cluster.Clock.Advance(TimeSpan.FromHours(1));
        await _cluster.ReconcileAsync();

        var image = _cluster.Image(serviceId);
        Assert.Equal(ImageState.Terminated, image.State);
        Assert.Equal($"instance {instance} ended with exit code 0; not restarted (restart policy on-failure)", image.StateMessage);
        Assert.Equal(ServiceState.Terminated, _cluster.Store.Get(serviceId).State);
        Assert.Equal(1, _first.Deploys + _second.Deploys);
    }

    [Fact]
    public async Task An_instance_that_failed_under_never_is_in_error_and_not_restarted()
    {
        var (serviceId, instance) = await DeployAndEndAsync(Cluster.ImageWithPolicy("never", "gpu"), exitCode: 1);

        await _cluster.ReconcileAsync();
        _cluster.Clock.Advance(TimeSpan.FromHours(1));
        await _cluster.ReconcileAsync();

        var image = _cluster.Image(serviceId);
        Assert.Equal(ImageState.Error, image.State);
        Assert.Equal($"instance {instance} ended with exit code 1; not restarted (restart policy never)", image.StateMessage);
        Assert.Equal(0, _cluster.InstancesRunning);
    }

    [Fact]
    public async Task An_instance_that_exited_cleanly_under_always_is_replaced()
    {
        var (serviceId, instance) = await DeployAndEndAsync(Cluster.ImageWithPolicy("always", "gpu"), exitCode: 0);

        await _cluster.ReconcileAsync();
        Assert.Equal($"instance {instance} ended with exit code 0; restart 1 in 5 s (restart policy always)", _cluster.Image(serviceId).StateMessage);

        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();

        var image = _cluster.Image(serviceId);
        Assert.Equal(ImageState.Running, image.State);
        Assert.Equal(1, image.Restarts);
        Assert.Equal(1, _cluster.InstancesRunning);
    }

    [Fact]
    public async Task The_second_restart_waits_twice_as_long_as_the_first()
    {
        var (serviceId, _) = await DeployAndEndAsync(Cluster.ImageNeeding("gpu"), exitCode: 1);
        await _cluster.ReconcileAsync();
        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();
        var second = _cluster.Image(serviceId).Id;
        _first.End(second);

        await _cluster.ReconcileAsync();
        Assert.Equal($"instance {second} ended with exit code 1; restart 2 in 10 s (restart policy on-failure)", _cluster.Image(serviceId).StateMessage);

        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();
        Assert.Equal(ImageState.Instantiating, _cluster.Image(serviceId).State);
        Assert.Equal(0, _cluster.InstancesRunning);

        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();
        Assert.Equal(ImageState.Running, _cluster.Image(serviceId).State);
        Assert.Equal(2, _cluster.Image(serviceId).Restarts);
        Assert.Equal(1, _cluster.InstancesRunning);
    }

    [Fact]
    public async Task An_instance_whose_node_left_the_cluster_counts_as_ended_and_is_placed_again_elsewhere()
    {
        var service = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"));
        var instance = service.Images[0].Id;
        _cluster.Directory.Remove(_first.Address);

        await _cluster.ReconcileAsync();

        Assert.Equal($"node 10.0.0.2 left the cluster with instance {instance}; restart 1 in 5 s (restart policy on-failure)", _cluster.Image(service.Id).StateMessage);

        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();

        var image = _cluster.Image(service.Id);
        Assert.Equal(ImageState.Running, image.State);
        Assert.Equal(_second.Address, image.Node);
        Assert.Equal([image.Id], _second.Running);
        Assert.Equal(0, _first.Terminations);
    }

    [Fact]
    public async Task A_state_query_that_fails_keeps_the_last_state_and_says_the_state_is_unknown_until_the_node_answers()
    {
        var service = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"));
        var instance = service.Images[0].Id;
        _first.StateFailure = "no answer within 2 s";

        await _cluster.ReconcileAsync();

        var unknown = _cluster.Image(service.Id);
        Assert.Equal(ImageState.Running, unknown.State);
        Assert.Equal($"state of instance {instance} on 10.0.0.2 unknown: no answer within 2 s", unknown.StateMessage);

        _first.StateFailure = null;
        await _cluster.ReconcileAsync();

        var known = _cluster.Image(service.Id);
        Assert.Equal(ImageState.Running, known.State);
        Assert.Equal("", known.StateMessage);
        Assert.Equal(instance, known.Id);
        Assert.Equal(1, _first.Deploys);
    }

    [Fact]
    public async Task A_state_the_node_reports_is_taken_over()
    {
        var service = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"));
        _first.State = ImageState.Error;

        await _cluster.ReconcileAsync();

        Assert.Equal(ImageState.Error, _cluster.Image(service.Id).State);
        Assert.Equal(ServiceState.Error, _cluster.Store.Get(service.Id).State);
    }

    [Fact]
    public async Task A_termination_asked_for_while_a_restart_waits_means_no_replacement()
    {
        var (serviceId, _) = await DeployAndEndAsync(Cluster.ImageNeeding("gpu"), exitCode: 1);
        await _cluster.ReconcileAsync();

        _cluster.Orchestrator.RequestTermination(serviceId);
        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();

        Assert.Equal(0, _cluster.InstancesRunning);
        Assert.Equal(1, _first.Deploys + _second.Deploys);

        await _cluster.RunQueuedAsync();
        _cluster.Clock.Advance(FirstBackoff);
        await _cluster.ReconcileAsync();

        Assert.Equal(ImageState.Terminated, _cluster.Image(serviceId).State);
        Assert.Equal(0, _cluster.InstancesRunning);
        Assert.Equal(1, _first.Deploys + _second.Deploys);
        Assert.Equal(0, _cluster.Intents.Count);
    }

    [Fact]
    public async Task A_pass_leaves_a_service_another_part_works_on_for_the_next_pass()
    {
        var (serviceId, _) = await DeployAndEndAsync(Cluster.ImageNeeding("gpu"), exitCode: 1);

        using (await _cluster.Locks.AcquireAsync(serviceId, CancellationToken.None))
            await _cluster.ReconcileAsync();
        Assert.Equal(ImageState.Running, _cluster.Image(serviceId).State);

        await _cluster.ReconcileAsync();
        Assert.Equal(ImageState.Instantiating, _cluster.Image(serviceId).State);
        Assert.Equal(0, _cluster.Locks.Count);
    }
}
