using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Core.Events;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Observe;

/// <summary>GET /v1/events against an in-process node over real HTTP, with the simulated VAL.</summary>
public sealed class EventsApiTests : NodeTest
{
    private const string Sleeper = "service_name: sleeper\nimages:\n- name: sleep\n  engine: simulated\n";

    private async Task<Service> PostAsync(string yaml)
    {
        var response = await Node.PostBlueprintAsync(yaml);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    private static string Capabilities(IEnumerable<string> names) =>
        JsonSerializer.Serialize(names.Select(n => new { capability = n, capability_type = "hardware" }));

    [Fact]
    public async Task A_deploy_gives_accepted_then_the_image_from_INITIAL_up_to_RUNNING_then_the_service_RUNNING()
    {
        await using var stream = await EventStreamClient.OpenAsync(Node.Client, "/v1/events?types=service,image");
        Assert.Equal(3000, stream.Retry);
        Assert.Equal($"motey events of {Node.Address}", stream.Comments[0]);
        var service = await PostAsync(Sleeper);

        var events = await stream.ReadUntilAsync(e => e.Type == "service" && e.Text("state_name") == "RUNNING", "the service RUNNING");
        Assert.All(events, e => Assert.Equal(service.Id, e.Text("service_id")));
        Assert.Equal(("service", "accepted", "INITIAL"), (events[0].Type, events[0].Text("change"), events[0].Text("state_name")));
        Assert.Equal("sleeper", events[0].Text("service_name"));
        var images = events.Where(e => e.Type == "image").ToList();
        Assert.Equal("INITIAL", images[0].Text("state_name"));
        Assert.Equal("RUNNING", images[^1].Text("state_name"));
        Assert.Equal(2, images[^1].Number("state"));
        Assert.Contains(images, e => e.Text("state_name") == "INSTANTIATING");
        // States only move forward, and the image event that makes the service RUNNING comes before the service's.
        Assert.True(images.Select(e => e.Number("state")).SequenceEqual(images.Select(e => e.Number("state")).Order()),
            string.Join("\n", images));
        var running = images[^1];
        Assert.Equal((Node.Address, "sleep", "simulated", 0), (running.Text("node"), running.Text("name"), running.Text("engine"), running.Number("index")));
        Assert.NotEqual("", running.Text("instance_id"));
        Assert.Equal(1, running.Number("generation"));
        Assert.True(events.Select(e => e.Id!.Value).SequenceEqual(events.Select(e => e.Id!.Value).Order()), "ids grow");
        Assert.Equal(running.Text("instance_id"), (await Node.GetServiceAsync(service.Id)).Images[0].Id);
    }

    [Fact]
    public async Task A_delete_gives_STOPPING_then_TERMINATED_then_removed()
    {
        var service = await PostAsync(Sleeper);
        await Node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running);
        await using var stream = await EventStreamClient.OpenAsync(Node.Client, $"/v1/events?service={service.Id}");

        Assert.Equal(HttpStatusCode.Accepted, (await Node.SendAsync(HttpMethod.Delete, $"/v1/service/{service.Id}")).StatusCode);
        var ending = await stream.ReadUntilAsync(e => e.Type == "service" && e.Text("state_name") == "TERMINATED", "the service TERMINATED");
        Assert.Equal(HttpStatusCode.NoContent, (await Node.SendAsync(HttpMethod.Delete, $"/v1/service/{service.Id}")).StatusCode);
        var removed = await stream.ReadUntilAsync(e => e.Type == "service" && e.Text("change") == "removed", "the service removed");

        var serviceStates = ending.Concat(removed).Where(e => e.Type == "service").Select(e => (e.Text("change"), e.Text("state_name")))
            .Aggregate(new List<(string, string)>(), (list, x) => { if (list.Count == 0 || list[^1] != x) list.Add(x); return list; });
        Assert.Equal([("state", "STOPPING"), ("state", "TERMINATED"), ("removed", "TERMINATED")], serviceStates);
        var imageStates = ending.Where(e => e.Type == "image").Select(e => e.Text("state_name")).Distinct().ToList();
        Assert.Equal(["STOPPING", "TERMINATED"], imageStates);
    }

    [Fact]
    public async Task Capability_put_and_delete_give_added_and_removed_events_and_nothing_when_nothing_changed()
    {
        await using var stream = await EventStreamClient.OpenAsync(Node.Client, "/v1/events?types=capability");
        const string gpu = """[{"capability": "gpu", "capability_type": "hardware"}]""";
        Assert.Equal(HttpStatusCode.Created, (await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", gpu, "application/json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, (await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", gpu, "application/json")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Node.SendAsync(HttpMethod.Delete, "/v1/capabilities", gpu, "application/json")).StatusCode);

        var added = (await stream.NextAsync())!;
        var removed = (await stream.NextAsync())!;
        Assert.Equal(("capability", "gpu", "hardware", "added"), (added.Type, added.Text("capability"), added.Text("capability_type"), added.Text("change")));
        Assert.Equal(("gpu", "hardware", "removed"), (removed.Text("capability"), removed.Text("capability_type"), removed.Text("change")));
        Assert.Equal(added.Id + 1, removed.Id);
    }

    [Fact]
    public async Task Last_event_id_replays_the_kept_events_after_it_with_their_ids()
    {
        await using (var first = await EventStreamClient.OpenAsync(Node.Client, "/v1/events?types=capability"))
        {
            await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", Capabilities(["a", "b", "c"]), "application/json");
            var seen = (await first.NextAsync())!;
            Assert.Equal("a", seen.Text("capability"));
            // The client goes away after the first event; on its return it asks for what came after it.
            await first.DisposeAsync();
            await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", Capabilities(["d"]), "application/json");

            await using var resumed = await EventStreamClient.OpenAsync(Node.Client, "/v1/events?types=capability", lastEventId: seen.Id!.ToString());
            var replayed = new[] { (await resumed.NextAsync())!, (await resumed.NextAsync())!, (await resumed.NextAsync())! };
            Assert.Equal(["b", "c", "d"], replayed.Select(e => e.Text("capability")));
            Assert.Equal([seen.Id + 1, seen.Id + 2, seen.Id + 3], replayed.Select(e => e.Id));

            // ?after= does the same for clients that cannot set the header.
            await using var after = await EventStreamClient.OpenAsync(Node.Client, $"/v1/events?types=capability&after={seen.Id + 2}");
            Assert.Equal("d", (await after.NextAsync())!.Text("capability"));
        }
    }

    [Fact]
    public async Task The_service_filter_keeps_only_that_services_events()
    {
        var other = await PostAsync("service_name: other\nimages:\n- name: x\n  engine: simulated\n");
        var mine = await PostAsync(Sleeper);
        await using var stream = await EventStreamClient.OpenAsync(Node.Client, $"/v1/events?service={mine.Id}&after=0");
        await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", Capabilities(["lab"]), "application/json");
        await Node.WaitForServiceAsync(other.Id, s => s.State == ServiceState.Running);

        var events = await stream.ReadUntilAsync(e => e.Type == "service" && e.Text("state_name") == "RUNNING", "my service RUNNING");
        Assert.All(events, e => Assert.Equal(mine.Id, e.Text("service_id")));
        Assert.Equal("accepted", events[0].Text("change"));  // replayed from the start (after=0)
        Assert.DoesNotContain(events, e => e.Type == "capability");
    }

    [Fact]
    public async Task An_id_older_than_the_buffer_gives_a_reset_first_then_the_kept_events()
    {
        // One PUT of 1,100 capabilities: 1,100 events, more than the 1,024 kept.
        var response = await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", Capabilities(Enumerable.Range(0, 1100).Select(i => $"c{i}")), "application/json");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var last = Node.Services.GetRequiredService<EventHub>().LastId;

        await using var stream = await EventStreamClient.OpenAsync(Node.Client, "/v1/events?after=1");
        var reset = (await stream.NextAsync())!;
        Assert.Equal("reset", reset.Type);
        Assert.Null(reset.Id);
        Assert.Contains("no longer kept", reset.Text("reason"));
        var first = (await stream.NextAsync())!;
        Assert.Equal(last - EventHub.BufferSize + 1, first.Id);

        // An id this run never gave: the agent restarted since the client's last event.
        await using var restarted = await EventStreamClient.OpenAsync(Node.Client, $"/v1/events?after={last + 1000}");
        var told = (await restarted.NextAsync())!;
        Assert.Equal("reset", told.Type);
        Assert.Contains("restarted", told.Text("reason"));
    }

    [Theory]
    [InlineData("/v1/events?types=pods", "types: unknown type 'pods'")]
    [InlineData("/v1/events?after=-1", "after: '-1' is not an event id")]
    public async Task A_bad_query_is_refused_with_400_saying_what(string path, string detail)
    {
        var response = await Node.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(detail, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_subscriber_that_does_not_read_is_reset_and_closed_and_deploys_go_on()
    {
        var hub = Node.Services.GetRequiredService<EventHub>();
        // A client that reads the preamble, then nothing: a raw socket with a small receive buffer.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(Node.Client.BaseAddress!.Host, Node.Client.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /v1/events HTTP/1.1\r\nHost: {Node.Address}\r\n\r\n"));
        var received = new StringBuilder();
        var buffer = new byte[65536];
        while (!received.ToString().Contains("motey events of", StringComparison.Ordinal))
            received.Append(Encoding.UTF8.GetString(buffer, 0, await socket.ReceiveAsync(buffer)));
        Assert.Equal(1, hub.SubscriberCount);

        // A deploy runs while the client reads nothing.
        var service = await PostAsync(Sleeper);
        await Node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running);
        // Then more events than its queue holds.
        for (var round = 0; hub.SubscriberCount > 0; round++)
        {
            Assert.True(round < 100, "the subscriber was never dropped");
            var names = Enumerable.Range(0, 500).Select(i => $"r{round}-{i}").ToList();
            await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", Capabilities(names), "application/json");
            await Node.SendAsync(HttpMethod.Delete, "/v1/capabilities", Capabilities(names), "application/json");
        }

        // It reads again: what was sent, a reset, and the end of the response (the chunked body's last chunk; the
        // connection itself is kept alive for another request).
        using (var deadline = new CancellationTokenSource(Wait.DefaultTimeout))
        {
            int count;
            do
            {
                count = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                received.Append(Encoding.UTF8.GetString(buffer, 0, count));
            }
            while (count > 0 && !received.ToString(Math.Max(0, received.Length - 7), Math.Min(7, received.Length)).EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal));
        }
        var text = received.ToString();
        Assert.Contains("event: reset\ndata: {\"reason\":\"this stream fell more than 1024 events behind", text);
        Assert.EndsWith("\r\n0\r\n\r\n", text);
        Assert.Equal(HttpStatusCode.OK, (await Node.Client.GetAsync("/v1/capabilities")).StatusCode);
    }

    [Fact]
    public async Task A_broken_plugin_gives_a_failed_plugin_event_and_the_good_ones_activated()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, TestNode.Throwing]);
        // The plugins loaded before any client could connect: the events are kept, and after=0 replays them.
        await using var stream = await EventStreamClient.OpenAsync(node.Client, "/v1/events?types=plugin&after=0");
        var (available, broken) = (false, false);
        var events = await stream.ReadUntilAsync(e =>
        {
            available |= e.Text("change") == "engine_available";
            broken |= e.Text("plugin") == TestNode.Throwing;
            return available && broken;
        }, "the simulated engine available and the throwing plugin's event");
        var failed = events.Single(e => e.Text("plugin") == TestNode.Throwing);
        Assert.Equal("failed", failed.Text("change"));
        Assert.Contains("engine socket /nonexistent is not reachable", failed.Text("message"));
        Assert.Contains(events, e => (e.Text("plugin"), e.Text("engine"), e.Text("change")) == (TestNode.Simulated, "simulated", "activated"));
        Assert.Contains(events, e => (e.Text("plugin"), e.Text("engine"), e.Text("change")) == (TestNode.Simulated, "simulated", "engine_available"));
    }

    [Fact]
    public async Task An_open_stream_ends_cleanly_when_the_agent_stops()
    {
        using var folder = new TestFolder();
        var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        using var client = new HttpClient { BaseAddress = node.Client.BaseAddress };  // not the node's: stopping disposes that one
        var stream = await EventStreamClient.OpenAsync(client, "/v1/events");
        try
        {
            var stopping = node.DisposeAsync().AsTask();
            // The response ends without an error (what the agent says while stopping may come first): the handler follows the
            // agent's stopping token, so the stop does not wait out the 30 s shutdown timeout.
            await stream.ReadToEndAsync(TimeSpan.FromSeconds(10));
            await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }
}
