using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// Whole agents in this process, as <c>motey run</c> builds them, joined through node A's embedded broker: nodes that
/// share the cluster key place images on each other; a node with another key, or none, joins membership (MQTT is not
/// this test's channel) but gets no answer over ZeroMQ, cannot deploy, and leaves the cluster healthy.
/// </summary>
public sealed class CurveClusterTests : IDisposable
{
    private const string LabImage = "service_name: remote\nimages:\n- name: x\n  engine: simulated\n  capabilities: [lab]\n";

    private readonly TestFolder _keys = new();
    private readonly TestFolder _a = new();
    private readonly TestFolder _c = new();
    private readonly TestFolder _d = new();

    public void Dispose()
    {
        _a.Dispose();
        _c.Dispose();
        _d.Dispose();
        _keys.Dispose();
    }

    private string NewKey(string name)
    {
        var path = Path.Combine(_keys.Path, name);
        ClusterKey.Generate().Write(path, force: false);
        return path;
    }

    private static async Task<int> CountNodesAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count;

    [Theory]
    [InlineData("another cluster's key")]
    [InlineData("no key")]
    public async Task Nodes_sharing_the_key_place_remotely_and_a_node_without_it_gets_nothing_from_them(string stranger)
    {
        var clusterKey = NewKey("cluster.key");
        await using var a = await TestNode.StartAsync(_a, [TestNode.Simulated], new Dictionary<string, string> { ["ZEROMQ:cluster_key"] = clusterKey });
        await using var c = await TestNode.StartAsync(_c, [TestNode.Simulated], new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external", ["MQTT:ip"] = a.Address, ["ZEROMQ:cluster_key"] = clusterKey,
        });
        await Wait.UntilAsync(async () => await CountNodesAsync(a) == 2, "node A knows node C");
        Assert.Equal(HttpStatusCode.Created,
            (await c.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "lab", "capability_type": "hardware"}]""",
                "application/json")).StatusCode);

        // A trusted peer deploys: A places the image on C over CURVE.
        var first = (await (await a.PostBlueprintAsync(LabImage)).Content.ReadFromJsonAsync<Service>())!;
        Assert.Equal(c.Address, (await a.WaitForServiceAsync(first.Id, s => s.State == ServiceState.Running)).Images.Single().Node);

        var strangerSettings = new Dictionary<string, string> { ["MQTT:broker"] = "external", ["MQTT:ip"] = a.Address, ["ZEROMQ:deploy_timeout"] = "2" };
        if (stranger != "no key") strangerSettings["ZEROMQ:cluster_key"] = NewKey("other.key");
        await using var d = await TestNode.StartAsync(_d, [TestNode.Simulated], strangerSettings);
        await Wait.UntilAsync(async () => await CountNodesAsync(d) == 3, "node D hears of A and C over MQTT");

        // The stranger cannot deploy on C, not even by asking it directly...
        var labels = new Dictionary<string, string> { [InstanceLabels.ServiceId] = "forged", [InstanceLabels.ImageIndex] = "0" };
        await Assert.ThrowsAsync<PeerTimeoutException>(() => d.Services.GetRequiredService<ZeroMqPeers>().For(c.Address)
            .DeployImageAsync(new Image { Name = "x", Engine = "simulated" }, labels, CancellationToken.None));
        // ...nor by placing: no node answers its capability requests.
        var refused = (await (await d.PostBlueprintAsync(LabImage)).Content.ReadFromJsonAsync<Service>())!;
        var waiting = await d.WaitForServiceAsync(refused.Id, s => s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Equal(ServiceState.Initial, waiting.State);
        Assert.True(string.IsNullOrEmpty(waiting.Images.Single().Node), waiting.StateMessage);

        // C ran only A's image, logged the stranger, and is healthy; the cluster still works.
        var instances = await c.Client.GetFromJsonAsync<List<JsonElement>>("/v1/instances");
        Assert.Single(instances!);
        var log = Path.Combine(_c.Path, "logs", "motey.log");
        await Wait.UntilAsync(() => File.ReadAllText(log).Contains("Refused a connection from 127.", StringComparison.Ordinal), "node C logs the stranger");
        Assert.Equal(HttpStatusCode.NoContent, (await c.Client.GetAsync("/v1/heartbeat")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await a.Client.GetAsync("/v1/heartbeat")).StatusCode);
        var second = (await (await a.PostBlueprintAsync(LabImage.Replace("remote", "again", StringComparison.Ordinal))).Content.ReadFromJsonAsync<Service>())!;
        Assert.Equal(c.Address, (await a.WaitForServiceAsync(second.Id, s => s.State == ServiceState.Running)).Images.Single().Node);
    }
}
