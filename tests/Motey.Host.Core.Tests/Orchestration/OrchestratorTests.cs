using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>The façade: what it queues for work a previous run left unfinished, and how a fault of the agent itself ends a deploy.</summary>
public sealed class OrchestratorTests
{
    private readonly Cluster _cluster = new(new FakeNode("10.0.0.1"), new FakeNode("10.0.0.2", "gpu"));

    private static Service Stored(string id, params ImageState[] states) => new()
    {
        Id = id, ServiceName = "svc",
        Images = states.Select(s => Cluster.ImageNeeding("gpu") with
        {
            State = s, Node = s == ImageState.Initial ? null : "10.0.0.2", Id = s is ImageState.Running or ImageState.Stopping ? "old" : "",
        }).ToList(),
    };

    [Fact]
    public async Task At_start_unfinished_deploys_and_terminations_of_the_last_run_are_queued_and_finished_services_are_not()
    {
        await _cluster.Store.AddAsync(Stored("deploying", ImageState.Running, ImageState.Initial));
        await _cluster.Store.AddAsync(Stored("stopping", ImageState.Stopping, ImageState.Running));
        await _cluster.Store.AddAsync(Stored("running", ImageState.Running));
        await _cluster.Store.AddAsync(Stored("placed-without-id", ImageState.Instantiating));

        await _cluster.Orchestrator.ResumeAsync(CancellationToken.None);

        var queued = new List<string>();
        while (_cluster.Orchestrator.Commands.TryRead(out var command)) queued.Add(command.Show());
        Assert.Equal(["Deploy service deploying", "Terminate service stopping", "Deploy service placed-without-id"], queued);
        Assert.True(_cluster.Intents.TerminationRequested("stopping"));
    }

    [Fact]
    public async Task A_delete_answered_while_a_deploy_holds_the_service_is_finished_by_the_next_start_though_the_agent_was_killed_before_anything_stopped()
    {
        var hanging = new FakeNode("10.0.0.3", "lab") { DeployHangs = true };
        var cluster = new Cluster(new FakeNode("10.0.0.1"), hanging);
        var accepted = await cluster.AcceptAsync(Cluster.ImageNeeding("lab"), Cluster.ImageNeeding());
        Assert.True(cluster.Orchestrator.Commands.TryRead(out var command));
        using var process = new CancellationTokenSource();
        var deploy = cluster.Orchestrator.RunAsync(command, process.Token);  // holds the service's lock while it hangs
        await hanging.DeployReached.WaitAsync(Cluster.Deadline);

        var answered = await cluster.Orchestrator.EndAsync(cluster.Store.Get(accepted.Id), CancellationToken.None);

        Assert.Equal([ImageState.Stopping, ImageState.Stopping], answered!.Images.Select(i => i.State));
        Assert.DoesNotContain(cluster.Store.Get(accepted.Id).Images, i => i.State == ImageState.Stopping);

        // kill -9: the deploy and the queued termination end with the process, writing nothing more.
        await process.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploy.WaitAsync(Cluster.Deadline));
        hanging.DeployHangs = false;
        var restarted = cluster.Restarted();
        await restarted.Orchestrator.ResumeAsync(CancellationToken.None);
        await restarted.RunQueuedAsync();

        Assert.Equal(ServiceState.Terminated, restarted.Store.Get(accepted.Id).State);
        Assert.Equal(1, hanging.Deploys);
        Assert.Equal(0, restarted.Local.Deploys);
        Assert.Equal(0, restarted.InstancesRunning);
    }

    [Fact]
    public async Task A_fault_of_the_agent_during_a_deploy_ends_the_image_in_error_instead_of_leaving_it_initial()
    {
        _cluster.Local.CapabilitiesFailure = "database is locked";

        var service = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"), Cluster.ImageNeeding());

        Assert.Equal([ImageState.Error, ImageState.Error], service.Images.Select(i => i.State));
        Assert.Equal("the deploy failed unexpectedly: database is locked (see the agent's log)", service.Images[0].StateMessage);
        Assert.Equal(0, _cluster.Locks.Count);
    }
}
