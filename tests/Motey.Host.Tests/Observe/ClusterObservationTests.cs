using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Observe;

/// <summary>Two in-process nodes joined through node A's embedded broker over real sockets: node events and peer metrics.</summary>
public sealed class ClusterObservationTests
{
    [Fact]
    public async Task A_node_joining_and_leaving_gives_node_events_and_a_placement_on_it_is_counted_as_peer()
    {
        using var folderA = new TestFolder();
        using var folderB = new TestFolder();
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Process]);
        await using var stream = await EventStreamClient.OpenAsync(a.Client, "/v1/events?types=node");

        var b = await TestNode.StartAsync(folderB, [TestNode.Simulated], new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
        });
        try
        {
            var joined = (await stream.NextAsync())!;
            Assert.Equal(("node", b.Address, "joined"), (joined.Type, joined.Text("address"), joined.Text("change")));

            var response = await a.PostBlueprintAsync("service_name: sim\nimages:\n- name: web\n  engine: simulated\n");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var service = (await response.Content.ReadFromJsonAsync<Service>())!;
            await a.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running);
            var metrics = await MetricsApiTests.ScrapeAsync(a.Client);
            Assert.Equal(1, metrics.Value("motey_placements_total", ("outcome", "peer")));
            Assert.Equal(2, metrics.Value("motey_cluster_nodes"));
            Assert.True(metrics.Value("motey_peer_requests_total", ("kind", "capabilities"), ("outcome", "ok")) >= 1);
            Assert.Equal(1, metrics.Value("motey_peer_requests_total", ("kind", "deploy"), ("outcome", "ok")));
        }
        finally
        {
            await b.DisposeAsync();
        }
        var left = await stream.ReadUntilAsync(e => e.Text("change") == "left", "node B left");
        Assert.Equal(b.Address, left[^1].Text("address"));
        Assert.Single((await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!);
    }
}
