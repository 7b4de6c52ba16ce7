using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Cluster;

/// <summary>Placement across two in-process nodes joined through node A's embedded broker, with dead peers in the way.</summary>
public sealed class PlacementTests
{
    [Fact]
    public async Task Dead_peers_cost_placement_at_most_one_timeout_since_they_are_asked_in_parallel()
    {
        using var folderA = new TestFolder();
        using var folderC = new TestFolder();
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Simulated]);
        await using var c = await TestNode.StartAsync(folderC, [TestNode.Simulated], new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
        });
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/nodes"))!.Count == 2,
            "node A knows node C");
        var put = await c.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "lab", "capability_type": "hardware"}]""", "application/json");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        // Five addresses where nothing listens, known to A as peers (as after a partition); request_timeout is 2 s.
        var cluster = a.Services.GetRequiredService<ClusterNodes>();
        for (var i = 0; i < 5; i++) await cluster.AddAsync(TestNode.NextAddress(), CancellationToken.None);

        var response = await a.PostBlueprintAsync("service_name: remote\nimages:\n- name: x\n  engine: simulated\n  capabilities: [lab]\n");
        var created = (await response.Content.ReadFromJsonAsync<Service>())!;
        // Asked one after another, the dead peers would take 10 s; in parallel about one timeout.
        var running = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running, TimeSpan.FromSeconds(6));
        Assert.Equal(c.Address, running.Images.Single().Node);

        var nowhere = await a.PostBlueprintAsync("service_name: nowhere\nimages:\n- name: x\n  engine: simulated\n  capabilities: [quantum]\n");
        var refused = (await nowhere.Content.ReadFromJsonAsync<Service>())!;
        var failed = await a.WaitForServiceAsync(refused.Id, s => s.State == ServiceState.Error, TimeSpan.FromSeconds(6));
        Assert.Contains("capability 'quantum'", failed.StateMessage);
        Assert.Contains("none of the 6 other known nodes", failed.StateMessage);

        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    [Fact]
    public async Task An_image_on_a_node_that_leaves_is_placed_again_on_a_node_that_can_run_it()
    {
        using var folderA = new TestFolder();
        using var folderB = new TestFolder();
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Simulated]);
        var external = new Dictionary<string, string> { ["MQTT:broker"] = "external", ["MQTT:ip"] = a.Address };
        var b = await TestNode.StartAsync(folderB, [TestNode.Simulated], external);
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/nodes"))!.Count == 2,
            "node A knows node B");
        await b.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "lab", "capability_type": "hardware"}]""", "application/json");
        var created = (await (await a.PostBlueprintAsync("service_name: mobile\nimages:\n- name: x\n  engine: simulated\n  capabilities: [lab]\n"))
            .Content.ReadFromJsonAsync<Service>())!;
        Assert.Equal(b.Address, (await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running)).Images.Single().Node);

        // B leaves; A gets the capability itself: the image comes back to A.
        await b.DisposeAsync();
        await a.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "lab", "capability_type": "hardware"}]""", "application/json");
        var moved = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running && s.Images.Single().Node == a.Address);
        Assert.Equal(1, moved.Images.Single().Restarts);
    }
}
