using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>Where the orchestrator places an image, and how a deploy moves on when a node fails it (Deployer behind the Orchestrator).</summary>
public sealed class FailoverTests
{
    private const string Local = "10.0.0.1";

    [Fact]
    public async Task An_image_runs_on_the_local_node_when_the_local_node_has_everything_it_needs()
    {
        var peer = new FakeNode("10.0.0.2", "gpu");
        var cluster = new Cluster(new FakeNode(Local, "gpu"), peer);

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));

        Assert.Equal(ServiceState.Running, service.State);
        Assert.Equal(Local, service.Images[0].Node);
        Assert.Single(cluster.Local.Running);
        Assert.Equal(0, peer.Deploys);
    }

    [Fact]
    public async Task An_image_the_local_node_cannot_run_goes_to_the_first_capable_peer_in_address_order()
    {
        var cluster = new Cluster(new FakeNode(Local), new FakeNode("10.0.0.4", "gpu"), new FakeNode("10.0.0.2"), new FakeNode("10.0.0.3", "gpu"));

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));

        Assert.Equal(ServiceState.Running, service.State);
        Assert.Equal("10.0.0.3", service.Images[0].Node);
        Assert.Equal([0, 0, 1, 0], cluster.Nodes.OrderBy(n => n.Address).Select(n => n.Running.Count));
    }

    [Fact]
    public async Task Each_image_of_a_service_is_placed_on_its_own()
    {
        var cluster = new Cluster(new FakeNode(Local), new FakeNode("10.0.0.2", "gpu"));

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"), Cluster.ImageNeeding());

        Assert.Equal(ServiceState.Running, service.State);
        Assert.Equal(["10.0.0.2", Local], service.Images.Select(i => i.Node));
    }

    [Fact]
    public async Task A_deploy_that_fails_on_one_node_moves_to_the_next_capable_node_and_says_why_meanwhile()
    {
        var failing = new FakeNode("10.0.0.2", "gpu") { DeployFailure = "pull access denied" };
        var next = new FakeNode("10.0.0.3", "gpu");
        var cluster = new Cluster(new FakeNode(Local), failing, next);

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));

        Assert.Equal(ServiceState.Running, service.State);
        Assert.Equal(next.Address, service.Images[0].Node);
        Assert.Single(next.Running);
        Assert.Contains("deploy on 10.0.0.2 failed: pull access denied; trying another node", cluster.MessagesOf(service.Id));
        Assert.Equal("", service.Images[0].StateMessage);
    }

    [Fact]
    public async Task What_a_failed_deploy_left_behind_is_removed_from_that_node_and_nothing_else_there()
    {
        var failing = new FakeNode("10.0.0.2", "gpu");
        var next = new FakeNode("10.0.0.3", "gpu");
        var cluster = new Cluster(new FakeNode(Local), failing, next);
        var earlier = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));
        failing.DeployFailure = "the container did not start";
        failing.FailAfterCreate = true;

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));

        Assert.Equal(next.Address, service.Images[0].Node);
        Assert.Equal([earlier.Images[0].Id], failing.Running);
        Assert.Single(next.Running);
    }

    [Fact]
    public async Task When_every_capable_node_fails_the_image_is_in_error_naming_every_failure()
    {
        var cluster = new Cluster(new FakeNode(Local),
            new FakeNode("10.0.0.2", "gpu") { DeployFailure = "no space left on device" },
            new FakeNode("10.0.0.3", "gpu") { DeployFailure = "engine stopped" },
            new FakeNode("10.0.0.4"));

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));

        Assert.Equal(ServiceState.Error, service.State);
        var image = service.Images[0];
        Assert.Equal(ImageState.Error, image.State);
        Assert.Equal(
            "deploy on 10.0.0.2 failed: no space left on device; deploy on 10.0.0.3 failed: engine stopped; no other node can run it " +
            $"(no node offers what the image needs: node {Local} lacks capability 'gpu'; none of the 1 other known nodes has all of them)",
            image.StateMessage);
        Assert.Equal($"images[0] (sensor): {image.StateMessage}", service.StateMessage);
        Assert.Equal(0, cluster.InstancesRunning);
    }

    [Fact]
    public async Task A_deploy_gives_up_after_three_nodes_however_many_could_run_the_image()
    {
        var peers = Enumerable.Range(2, 4).Select(i => new FakeNode($"10.0.0.{i}", "gpu") { DeployFailure = $"broken {i}" }).ToArray();
        var cluster = new Cluster(new FakeNode(Local), peers);

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu"));

        Assert.Equal(ImageState.Error, service.Images[0].State);
        Assert.Equal(
            "deploy on 10.0.0.2 failed: broken 2; deploy on 10.0.0.3 failed: broken 3; deploy on 10.0.0.4 failed: broken 4; gave up after 3 nodes",
            service.Images[0].StateMessage);
        Assert.Equal([1, 1, 1, 0], peers.Select(p => p.Deploys));
    }

    [Fact]
    public async Task An_image_no_node_can_run_waits_in_initial_saying_what_is_missing()
    {
        var peer = new FakeNode("10.0.0.2", "gpu");
        var cluster = new Cluster(new FakeNode(Local), peer);

        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu") with { Engine = "docker" });

        Assert.Equal(ServiceState.Initial, service.State);
        Assert.Equal(
            Deployer.WaitingPrefix +
            $"no node offers what the image needs: node {Local} lacks capability 'gpu', engine 'docker' (capability 'docker' of type plugin); " +
            "none of the 1 other known nodes has all of them",
            service.Images[0].StateMessage);
        Assert.Null(service.Images[0].Node);
        Assert.Equal(0, peer.Deploys);
    }

    [Fact]
    public async Task A_waiting_image_is_placed_once_a_node_gains_what_it_needs()
    {
        var peer = new FakeNode("10.0.0.2", "gpu");
        var cluster = new Cluster(new FakeNode(Local), peer);
        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu") with { Engine = "docker" });

        peer.Engines.Add("docker");
        await cluster.Orchestrator.RetryWaitingAsync(CancellationToken.None);
        await cluster.RunQueuedAsync();

        service = cluster.Store.Get(service.Id);
        Assert.Equal(ServiceState.Running, service.State);
        Assert.Equal(peer.Address, service.Images[0].Node);
        Assert.Equal("", service.Images[0].StateMessage);
        Assert.Equal(1, cluster.InstancesRunning);
    }

    [Fact]
    public async Task A_waiting_image_of_a_service_being_terminated_is_not_tried_again()
    {
        var peer = new FakeNode("10.0.0.2", "gpu");
        var cluster = new Cluster(new FakeNode(Local), peer);
        var service = await cluster.DeployAsync(Cluster.ImageNeeding("gpu") with { Engine = "docker" });

        cluster.Orchestrator.RequestTermination(service.Id);
        peer.Engines.Add("docker");
        await cluster.Orchestrator.RetryWaitingAsync(CancellationToken.None);
        await cluster.RunQueuedAsync();

        Assert.Equal(ServiceState.Terminated, cluster.Store.Get(service.Id).State);
        Assert.Equal(0, peer.Deploys);
    }

    [Fact]
    public async Task A_node_that_leaves_the_cluster_during_the_deploy_is_given_up_for_the_next_capable_node()
    {
        var leaving = new FakeNode("10.0.0.2", "gpu") { DeployHangs = true };
        var next = new FakeNode("10.0.0.3", "gpu");
        var cluster = new Cluster(new FakeNode(Local), leaving, next);
        var accepted = await cluster.AcceptAsync(Cluster.ImageNeeding("gpu"));

        var deploy = cluster.RunQueuedAsync();
        await leaving.DeployReached.WaitAsync(Cluster.Deadline);
        cluster.Directory.Remove(leaving.Address);
        await deploy;

        var image = cluster.Image(accepted.Id);
        Assert.Equal(ImageState.Running, image.State);
        Assert.Equal(next.Address, image.Node);
        Assert.Contains("deploy on 10.0.0.2 failed: node 10.0.0.2 left the cluster during the deploy; trying another node", cluster.MessagesOf(accepted.Id));
    }

    [Fact]
    public async Task The_only_capable_node_leaving_during_the_deploy_leaves_the_image_waiting_and_it_runs_once_the_node_is_back()
    {
        var leaving = new FakeNode("10.0.0.2", "gpu") { DeployHangs = true };
        var cluster = new Cluster(new FakeNode(Local), leaving);
        var accepted = await cluster.AcceptAsync(Cluster.ImageNeeding("gpu"));

        var deploy = cluster.RunQueuedAsync();
        await leaving.DeployReached.WaitAsync(Cluster.Deadline);
        cluster.Directory.Remove(leaving.Address);
        await deploy;

        var image = cluster.Image(accepted.Id);
        Assert.Equal(ImageState.Initial, image.State);
        Assert.Null(image.Node);
        Assert.StartsWith(Deployer.WaitingPrefix, image.StateMessage);

        leaving.DeployHangs = false;
        cluster.Directory.Add(leaving);
        await cluster.Orchestrator.RetryWaitingAsync(CancellationToken.None);
        await cluster.RunQueuedAsync();

        Assert.Equal(ImageState.Running, cluster.Image(accepted.Id).State);
        Assert.Equal(leaving.Address, cluster.Image(accepted.Id).Node);
        Assert.Equal(1, cluster.InstancesRunning);
    }

    [Fact]
    public async Task A_termination_asked_for_during_failover_stops_the_deploy_and_the_images_after_it()
    {
        var failing = new FakeNode("10.0.0.2", "gpu") { DeployFailure = "disk full" };
        var next = new FakeNode("10.0.0.3", "gpu");
        var cluster = new Cluster(new FakeNode(Local), failing, next);
        var accepted = await cluster.AcceptAsync(Cluster.ImageNeeding("gpu"), Cluster.ImageNeeding());
        failing.DuringDeploy = () => cluster.Orchestrator.RequestTermination(accepted.Id);

        await cluster.RunNextAsync();

        var service = cluster.Store.Get(accepted.Id);
        Assert.Equal(ImageState.Error, service.Images[0].State);
        Assert.Equal("deploy on 10.0.0.2 failed: disk full", service.Images[0].StateMessage);
        Assert.Equal(ImageState.Initial, service.Images[1].State);
        Assert.Equal(0, next.Deploys);
        Assert.Equal(0, cluster.Local.Deploys);

        await cluster.RunNextAsync();

        Assert.Equal([ImageState.Terminated, ImageState.Terminated], cluster.Store.Get(accepted.Id).Images.Select(i => i.State));
        Assert.Equal(0, cluster.InstancesRunning);
        Assert.Equal(0, cluster.Intents.Count);
        Assert.Equal(0, cluster.Locks.Count);
    }
}
