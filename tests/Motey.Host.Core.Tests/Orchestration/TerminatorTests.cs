using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>Terminating a service: what is stopped where, what the images say afterwards, and that nothing about it is kept.</summary>
public sealed class TerminatorTests
{
    private readonly FakeNode _peer = new("10.0.0.2", "gpu");
    private readonly Cluster _cluster;

    public TerminatorTests() => _cluster = new Cluster(new FakeNode("10.0.0.1"), _peer);

    private void AssertNothingIsRemembered()
    {
        Assert.Equal(0, _cluster.Intents.Count);
        Assert.Equal(0, _cluster.Locks.Count);
    }

    [Fact]
    public async Task Terminating_stops_every_image_on_its_node_and_the_service_ends_terminated()
    {
        var deployed = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"), Cluster.ImageNeeding());
        Assert.Single(_peer.Running);
        Assert.Single(_cluster.Local.Running);

        var service = await _cluster.TerminateAsync(deployed.Id);

        Assert.Equal(ServiceState.Terminated, service.State);
        Assert.Equal([ImageState.Terminated, ImageState.Terminated], service.Images.Select(i => i.State));
        Assert.Equal("", service.StateMessage);
        Assert.Equal(0, _cluster.InstancesRunning);
        Assert.Equal(1, _peer.Terminations);
        Assert.Equal(1, _cluster.Local.Terminations);
        Assert.Contains(_cluster.Store.History, s => s.Id == deployed.Id && s.Images[0].State == ImageState.Stopping);
        AssertNothingIsRemembered();
    }

    [Fact]
    public async Task An_image_whose_node_left_the_cluster_is_terminated_with_nothing_to_stop()
    {
        var deployed = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"));
        _cluster.Directory.Remove(_peer.Address);

        var service = await _cluster.TerminateAsync(deployed.Id);

        Assert.Equal(ServiceState.Terminated, service.State);
        Assert.Equal("node 10.0.0.2 left the cluster; nothing to stop", service.Images[0].StateMessage);
        Assert.Equal("images[0] (sensor): node 10.0.0.2 left the cluster; nothing to stop", service.StateMessage);
        Assert.Equal(0, _peer.Terminations);
        AssertNothingIsRemembered();
    }

    [Fact]
    public async Task An_image_its_node_fails_to_stop_is_in_error_with_the_reason_and_the_other_images_are_stopped()
    {
        var deployed = await _cluster.DeployAsync(Cluster.ImageNeeding("gpu"), Cluster.ImageNeeding());
        _peer.StopFailure = "the engine does not answer";

        var service = await _cluster.TerminateAsync(deployed.Id);

        Assert.Equal(ServiceState.Error, service.State);
        Assert.Equal(ImageState.Error, service.Images[0].State);
        Assert.Equal("stop on 10.0.0.2 failed: the engine does not answer", service.Images[0].StateMessage);
        Assert.Equal(ImageState.Terminated, service.Images[1].State);
        Assert.Empty(_cluster.Local.Running);
        AssertNothingIsRemembered();
    }

    [Fact]
    public async Task An_image_that_was_never_placed_is_terminated_without_asking_a_node_and_no_longer_says_what_it_waited_for()
    {
        var deployed = await _cluster.DeployAsync(Cluster.ImageNeeding("lidar"));
        Assert.StartsWith(Deployer.WaitingPrefix, deployed.Images[0].StateMessage);

        var service = await _cluster.TerminateAsync(deployed.Id);

        Assert.Equal(ImageState.Terminated, service.Images[0].State);
        Assert.Equal("", service.Images[0].StateMessage);
        Assert.Equal(0, _peer.Terminations + _cluster.Local.Terminations);
        AssertNothingIsRemembered();
    }

    [Fact]
    public async Task What_a_deploy_cut_short_left_behind_is_removed_when_the_service_is_terminated()
    {
        var accepted = await _cluster.AcceptAsync(Cluster.ImageNeeding("gpu"));
        _cluster.Orchestrator.RequestTermination(accepted.Id);
        // The image was placed and the engine created the instance, but the agent never learnt its id (killed meanwhile).
        var placed = accepted.Images[0] with { Node = _peer.Address, State = ImageState.Instantiating };
        await _cluster.Store.UpdateAsync(accepted with { Images = [placed] });
        _peer.Start(placed, InstanceLabelSet.For(accepted.Id, 0, _peer.Address));
        var other = _peer.Start(placed, InstanceLabelSet.For("another-service", 0, _peer.Address));

        await _cluster.RunQueuedAsync();

        Assert.Equal(ImageState.Terminated, _cluster.Image(accepted.Id).State);
        Assert.Equal([other], _peer.Running);
        Assert.Equal(0, _peer.Deploys);
        AssertNothingIsRemembered();
    }

    [Fact]
    public async Task Terminating_an_unknown_service_remembers_nothing_about_it()
    {
        _cluster.Orchestrator.RequestTermination("no-such-service");
        await _cluster.RunQueuedAsync();

        AssertNothingIsRemembered();
    }
}
