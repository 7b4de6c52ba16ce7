using Motey.Abstractions;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Tests.Fencing;

/// <summary>The placing node's verdict on an instance another node runs for it.</summary>
public sealed class InstanceOwnershipTests
{
    private const string Holder = "10.0.0.3";

    private static HeldInstance Held(string id = "i-1", int index = 0, int generation = 1) =>
        new(id, "simulated", "web", "svc", index, "10.0.0.2", generation);

    private static Service ServiceWith(Image image) =>
        new() { Id = "svc", ServiceName = "web", Images = [image] };

    private static Image Placed(string? node = Holder, string id = "i-1", ImageState state = ImageState.Running) =>
        new() { Name = "web", Engine = "simulated", Node = node, Id = id, State = state, Generation = 1 };

    [Fact]
    public void The_image_s_own_instance_on_its_node_is_kept() =>
        Assert.True(InstanceOwnership.Decide(Holder, Held(), ServiceWith(Placed())).Keep);

    [Fact]
    public void An_instance_of_a_deleted_service_is_stopped()
    {
        var verdict = InstanceOwnership.Decide(Holder, Held(), null);
        Assert.False(verdict.Keep);
        Assert.Equal("service svc is gone", verdict.Reason);
    }

    [Fact]
    public void An_instance_of_an_image_placed_on_another_node_meanwhile_is_stopped()
    {
        var verdict = InstanceOwnership.Decide(Holder, Held(), ServiceWith(Placed(node: "10.0.0.4", id: "i-9") with { Generation = 2 }));
        Assert.False(verdict.Keep);
        Assert.Equal("image 0 of service svc runs on 10.0.0.4 (generation 2)", verdict.Reason);
    }

    [Theory]
    [InlineData(ImageState.Terminated)]
    [InlineData(ImageState.Error)]
    public void An_instance_of_an_image_that_ended_is_stopped(ImageState state) =>
        Assert.False(InstanceOwnership.Decide(Holder, Held(), ServiceWith(Placed(state: state))).Keep);

    [Fact]
    public void A_second_instance_of_an_image_on_the_same_node_is_stopped()
    {
        var verdict = InstanceOwnership.Decide(Holder, Held(id: "i-2"), ServiceWith(Placed(id: "i-1")));
        Assert.False(verdict.Keep);
        Assert.Equal($"instance i-1 is the image's instance on {Holder}", verdict.Reason);
    }

    [Fact]
    public void An_instance_whose_deploy_has_not_stored_its_id_yet_is_kept() =>
        Assert.True(InstanceOwnership.Decide(Holder, Held(), ServiceWith(Placed(id: "", state: ImageState.Instantiating))).Keep);

    [Fact]
    public void An_instance_of_an_image_waiting_for_a_node_is_stopped() =>
        Assert.False(InstanceOwnership.Decide(Holder, Held(), ServiceWith(Placed(node: null, id: "", state: ImageState.Initial))).Keep);

    [Fact]
    public void An_instance_of_an_image_the_service_does_not_have_is_stopped() =>
        Assert.False(InstanceOwnership.Decide(Holder, Held(index: 3), ServiceWith(Placed())).Keep);
}
