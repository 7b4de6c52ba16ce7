using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Orchestration;

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
        var waiting = await a.WaitForServiceAsync(refused.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal), TimeSpan.FromSeconds(6));
        Assert.Contains("capability 'quantum'", waiting.StateMessage);
        Assert.Contains("none of the 6 other known nodes", waiting.StateMessage);

        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    [Fact]
    public async Task Dead_peers_earlier_in_the_order_do_not_hold_up_a_placement_that_a_live_peer_can_take()
    {
        // request_timeout 30 s: a placement that waited for the dead peers' answers would miss every deadline below.
        var (a, c, folders) = await StartPairAsync(new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = "30" });
        using var ___ = folders;  // declared first, so deleted last, after both nodes stopped
        await using var _ = a;
        await using var __ = c;
        var cluster = a.Services.GetRequiredService<ClusterNodes>();
        // 127.0.99.x sorts before every test node's 127.1xx.x.x, so these come first in the order peers are asked in.
        var dead = Enumerable.Range(1, 5).Select(i => $"127.0.99.{i}").ToList();
        foreach (var address in dead) await cluster.AddAsync(address, CancellationToken.None);

        for (var round = 0; round < 3; round++)
        {
            var created = (await (await a.PostBlueprintAsync($"service_name: remote{round}\nimages:\n- name: x\n  engine: simulated\n  capabilities: [lab]\n"))
                .Content.ReadFromJsonAsync<Service>())!;
            var running = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running, TimeSpan.FromSeconds(15));
            Assert.Equal(c.Address, running.Images.Single().Node);
        }
        Assert.Equal(7, (await a.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/nodes"))!.Count);
    }

    [Fact]
    public async Task A_deploy_that_times_out_on_one_peer_is_placed_on_the_next_peer_that_can_run_it()
    {
        var (a, c, folders) = await StartPairAsync(new Dictionary<string, string> { ["ZEROMQ:deploy_timeout"] = "3" }, withLab: false);
        using var ___ = folders;
        await using var _ = a;
        await using var __ = c;
        await using var held = await HeldPeer.StartAsync(a);

        var created = await PostSlowAsync(a, held);
        await PutLabAsync(c);  // only now may C run it too: the first choice was the held peer, the only one able then

        var running = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running, TimeSpan.FromSeconds(20));
        Assert.Equal(c.Address, running.Images.Single().Node);
        Assert.Equal(0, running.Images.Single().Restarts);
        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    [Fact]
    public async Task A_peer_that_leaves_during_a_deploy_is_given_up_at_once_and_the_image_goes_to_another_peer()
    {
        // deploy_timeout 300 s: only hearing that the peer left can explain a move to C within the deadline.
        var (a, c, folders) = await StartPairAsync(new Dictionary<string, string> { ["ZEROMQ:deploy_timeout"] = "300" }, withLab: false);
        using var ___ = folders;
        await using var _ = a;
        await using var __ = c;
        await using var held = await HeldPeer.StartAsync(a);
        var created = await PostSlowAsync(a, held);
        await PutLabAsync(c);

        // What node A's membership does when the broker says the peer left (a clean stop or its last will).
        Assert.True(await a.Services.GetRequiredService<ClusterNodes>().RemoveAsync(held.Address, CancellationToken.None));
        var running = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running, TimeSpan.FromSeconds(20));
        Assert.Equal(c.Address, running.Images.Single().Node);
    }

    [Fact]
    public async Task A_deploy_that_fails_on_the_only_capable_peer_ends_in_error_naming_the_failure_and_that_no_other_node_can_run_it()
    {
        var (a, c, folders) = await StartPairAsync(new Dictionary<string, string> { ["ZEROMQ:deploy_timeout"] = "2" }, withLab: false);
        using var ___ = folders;
        await using var _ = a;
        await using var __ = c;
        await using var held = await HeldPeer.StartAsync(a);
        var created = await PostSlowAsync(a, held);

        var failed = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error, TimeSpan.FromSeconds(20));
        Assert.Contains($"deploy on {held.Address} failed", failed.StateMessage);
        Assert.Contains("no other node can run it", failed.StateMessage);
        Assert.Contains("capability 'lab'", failed.StateMessage);
        Assert.Equal("", failed.Images.Single().Id);
    }

    /// <summary>Posts an image only <paramref name="held"/> can run, and waits until its deploy is held there.</summary>
    private static async Task<Service> PostSlowAsync(TestNode a, HeldPeer held)
    {
        var created = (await (await a.PostBlueprintAsync($"service_name: moved\nimages:\n- name: {GatedNode.SlowImage}\n  engine: simulated\n  capabilities: [lab]\n"))
            .Content.ReadFromJsonAsync<Service>())!;
        await Wait.UntilAsync(() => held.Gate.SlowDeploysWaiting == 1, "the deploy is held on the peer");
        Assert.Equal(held.Address, (await a.GetServiceAsync(created.Id)).Images.Single().Node);
        return created;
    }

    /// <summary>Node A (embedded broker) and node C (external broker = A) that know each other; C has capability lab unless told not to.</summary>
    private static async Task<(TestNode A, TestNode C, TestFolders Folders)> StartPairAsync(IReadOnlyDictionary<string, string> aSettings, bool withLab = true)
    {
        var folders = new TestFolders();
        var a = await TestNode.StartAsync(folders.A, [TestNode.Simulated], aSettings);
        var c = await TestNode.StartAsync(folders.C, [TestNode.Simulated], new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
        });
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/nodes"))!.Count == 2, "node A knows node C");
        if (withLab) await PutLabAsync(c);
        return (a, c, folders);
    }

    private static async Task PutLabAsync(TestNode node) =>
        Assert.Equal(HttpStatusCode.Created,
            (await node.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "lab", "capability_type": "hardware"}]""", "application/json")).StatusCode);

    private sealed class TestFolders : IDisposable
    {
        public TestFolder A { get; } = new();
        public TestFolder C { get; } = new();

        public void Dispose()
        {
            A.Dispose();
            C.Dispose();
        }
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

    /// <summary>
    /// A peer of node A with capability lab whose deploys of <see cref="GatedNode.SlowImage"/> never answer until the
    /// test ends: real ZeroMQ repliers in front of a real local node, known to A as a peer.
    /// </summary>
    private sealed class HeldPeer : IAsyncDisposable
    {
        private readonly PeerNode _node;

        private HeldPeer(PeerNode node, GatedNode gate) => (_node, Gate) = (node, gate);

        public GatedNode Gate { get; }
        public string Address => _node.Address;

        public static async Task<HeldPeer> StartAsync(TestNode a)
        {
            var node = await PeerNode.CreateAsync();
            await node.Capabilities.AddAsync([new Capability("lab", "hardware")]);
            var peer = new HeldPeer(node, new GatedNode(node.Local));
            await node.StartRepliersAsync(peer.Gate);
            await a.Services.GetRequiredService<ClusterNodes>().AddAsync(node.Address, CancellationToken.None);
            return peer;
        }

        public async ValueTask DisposeAsync()
        {
            Gate.ReleaseDeploys();
            await _node.DisposeAsync();
        }
    }
}
