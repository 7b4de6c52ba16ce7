using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Core.Model;
using Motey.Host.Core.Placement;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// The v2 presence (README, How the cluster works) between in-process agents on their own loopback addresses and the
/// embedded broker of the first one, watched and played on the wire by MQTT clients of the test's own
/// (<see cref="MqttProbe"/>): what a node publishes, who clears what, what a joiner learns and who answers whom.
/// </summary>
public sealed class PresenceTests : IAsyncLifetime
{
    private readonly List<TestFolder> _folders = [];
    private readonly List<IAsyncDisposable> _running = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _running.Count - 1; i >= 0; i--) await _running[i].DisposeAsync();
        foreach (var folder in _folders) folder.Dispose();
    }

    /// <summary>A node hosting the embedded broker, or (<paramref name="broker"/> given) one using that node's broker.</summary>
    private async Task<TestNode> StartAsync(TestNode? broker = null)
    {
        var folder = new TestFolder();
        _folders.Add(folder);
        var settings = broker is null ? null : new Dictionary<string, string> { ["MQTT:broker"] = "external", ["MQTT:ip"] = broker.Address };
        var node = await TestNode.StartAsync(folder, [TestNode.Simulated], settings);
        _running.Add(node);
        await Wait.UntilAsync(async () => await node.Client.GetStringAsync("/healthz") == "Healthy", $"{node.Address} has joined its broker");
        return node;
    }

    private async Task<MqttProbe> ProbeAsync(TestNode broker, string? address = null, bool will = false, params string[] topics)
    {
        var probe = await MqttProbe.ConnectAsync(broker.Address, 1883, address ?? TestNode.NextAddress(), will, topics);
        _running.Add(probe);
        return probe;
    }

    private static async Task<List<string>> MembersAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal).ToList();

    private static Task WaitForMembersAsync(TestNode observer, params string[] members)
    {
        var expected = members.Order(StringComparer.Ordinal).ToList();
        List<string> seen = [];
        return Wait.UntilAsync(async () => (seen = await MembersAsync(observer)).SequenceEqual(expected),
            $"{observer.Address} lists exactly [{string.Join(", ", expected)}]", detail: () => $"it lists [{string.Join(", ", seen)}]");
    }

    private static CapabilityView View(TestNode node) => node.Services.GetRequiredService<CapabilityView>();

    private static async Task<List<Capability>> CapabilitiesAsync(TestNode node) => (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;

    private static string Log(TestNode node)
    {
        using var stream = new FileStream(Path.Combine(node.Folder.Path, "logs", "motey.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    private static List<Capability> Listed(string presence) =>
        JsonSerializer.Deserialize<JsonElement>(presence).GetProperty("capabilities").Deserialize<List<Capability>>()!;

    [Fact]
    public async Task A_nodes_presence_carries_its_capabilities_follows_a_change_and_is_cleared_on_a_clean_stop()
    {
        var a = await StartAsync();
        var b = await StartAsync(a);
        var watch = await ProbeAsync(a, topics: Presence.Subscription);

        var retained = await MqttProbe.RetainedPresencesAsync(a.Address, 1883);
        var presence = JsonSerializer.Deserialize<JsonElement>(retained[b.Address]);
        Assert.Equal(b.Address, presence.GetProperty("address").GetString());
        Assert.StartsWith("Motey.NET ", presence.GetProperty("agent").GetString());
        // Exactly what GET /v1/capabilities lists, the engine's plugin capability included.
        var listed = await CapabilitiesAsync(b);
        Assert.Contains(new Capability("simulated", Capability.PluginType), listed);
        Assert.Equal(listed, Listed(retained[b.Address]));
        // A reads it into its view.
        await Wait.UntilAsync(() => View(a).Find(b.Address)?.Capabilities.SequenceEqual(listed) == true, "A's view holds B's capabilities");

        // A burst of changes ends in a presence with the latest list.
        Assert.Equal(System.Net.HttpStatusCode.Created, (await b.SendAsync(HttpMethod.Put, "/v1/capabilities",
            """[{"capability": "lab", "capability_type": "hardware"}, {"capability": "gpu", "capability_type": "hardware"}]""", "application/json")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await b.SendAsync(HttpMethod.Delete, "/v1/capabilities",
            """[{"capability": "gpu", "capability_type": "hardware"}]""", "application/json")).StatusCode);
        var changed = await CapabilitiesAsync(b);
        Assert.Contains(new Capability("lab", "hardware"), changed);
        await Wait.UntilAsync(() => watch.Deliveries.LastOrDefault(d => d.Topic == Presence.Topic(b.Address)) is { } last && Listed(last.Text).SequenceEqual(changed),
            "B's last presence lists lab and not gpu", detail: () => string.Join("\n", watch.Deliveries.Where(d => d.Topic == Presence.Topic(b.Address)).Select(d => d.Text)));
        await Wait.UntilAsync(() => View(a).Find(b.Address)?.Capabilities.SequenceEqual(changed) == true, "A's view follows B's change");
        Assert.Equal(changed, Listed((await MqttProbe.RetainedPresencesAsync(a.Address, 1883))[b.Address]));

        // A clean stop clears it before saying remove: A forgets B's capabilities, and the broker keeps nothing of B.
        _running.Remove(b);
        await b.DisposeAsync();
        await WaitForMembersAsync(a, a.Address);
        var topic = Presence.Topic(b.Address);
        var cleared = watch.Deliveries.ToList().FindLastIndex(d => d.Topic == topic && d.Payload.Length == 0);
        Assert.True(cleared >= 0, "B published an empty presence when it stopped");
        Assert.Null(View(a).Find(b.Address));
        Assert.DoesNotContain(b.Address, (await MqttProbe.RetainedPresencesAsync(a.Address, 1883)).Keys);
    }

    [Fact]
    public async Task The_presence_a_killed_peer_leaves_is_cleared_by_the_lowest_live_node_and_a_later_joiner_does_not_list_it()
    {
        var a = await StartAsync();
        var b = await StartAsync(a);
        var watch = await ProbeAsync(a, topics: Presence.Subscription);
        // A Motey.NET node on the wire: its last will says remove, its presence is retained.
        var dead = await ProbeAsync(a, will: true);
        await dead.PublishPresenceAsync(new Capability("lab", "hardware"));
        await dead.PublishAsync(MqttMembership.Register, dead.Address);
        await WaitForMembersAsync(a, a.Address, b.Address, dead.Address);
        await WaitForMembersAsync(b, a.Address, b.Address, dead.Address);
        Assert.NotNull(View(b).Find(dead.Address));

        dead.Kill();

        await WaitForMembersAsync(a, a.Address, b.Address);
        await WaitForMembersAsync(b, a.Address, b.Address);
        Assert.Null(View(a).Find(dead.Address));
        Assert.Null(View(b).Find(dead.Address));
        var topic = Presence.Topic(dead.Address);
        await Wait.UntilAsync(() => watch.Deliveries.Any(d => d.Topic == topic && d.Payload.Length == 0), "a live node clears the dead node's presence");
        Assert.DoesNotContain(dead.Address, (await MqttProbe.RetainedPresencesAsync(a.Address, 1883)).Keys);
        // The lowest address of the two cleared it; the other did not.
        var (lowest, other) = string.CompareOrdinal(a.Address, b.Address) < 0 ? (a, b) : (b, a);
        Assert.Contains($"Cleared the presence node {dead.Address} left behind", Log(lowest));
        Assert.DoesNotContain($"Cleared the presence node {dead.Address} left behind", Log(other));

        var c = await StartAsync(a);
        await WaitForMembersAsync(c, a.Address, b.Address, c.Address);
    }

    [Fact]
    public async Task A_retained_presence_of_a_dead_node_nobody_cleared_is_checked_directly_dropped_and_cleared_and_a_live_ones_confirmed()
    {
        // request_timeout 1 s: a peer that never answers is dropped within 2 x 2 s + 1 s of being checked.
        var fast = new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = "1" };
        var folderA = new TestFolder();
        _folders.Add(folderA);
        var a = await TestNode.StartAsync(folderA, [TestNode.Simulated], fast);
        _running.Add(a);
        var c = await StartAsync(a);  // alive: its presence is on the broker when B joins
        // What a node that died with nobody left to clear its presence leaves on the broker: a retained presence, no will.
        var ghost = await ProbeAsync(a);
        await ghost.PublishPresenceAsync(new Capability("lab", "hardware"));
        await ghost.DisposeAsync();
        var watch = await ProbeAsync(a, topics: Presence.Subscription);

        var folderB = new TestFolder();
        _folders.Add(folderB);
        var b = await TestNode.StartAsync(folderB, [TestNode.Simulated],
            new Dictionary<string, string>(fast) { ["MQTT:broker"] = "external", ["MQTT:ip"] = a.Address });
        _running.Add(b);
        var nodesB = b.Services.GetRequiredService<Motey.Host.Core.Membership.ClusterNodes>();

        // B lists both at once (old news, unconfirmed), then asks each directly: C answers and is confirmed; the ghost
        // never does, is dropped, and its presence is cleared, so A (which took it as it was published) checks it too.
        await Wait.UntilAsync(async () => (await MembersAsync(b)).Contains(ghost.Address), "B lists the ghost from its retained presence");
        await WaitForMembersAsync(b, a.Address, b.Address, c.Address);
        await Wait.UntilAsync(() => !nodesB.IsUnconfirmed(c.Address), "B confirms C by its answer to a direct check");
        // Waited for, not read once: the drop is logged on the checks' own schedule, after the member list changed.
        await Wait.UntilAsync(() => Log(b).Contains($"Node {ghost.Address} left: not heard on the broker, and 3 direct checks in a row failed", StringComparison.Ordinal),
            "B logs why it dropped the ghost");
        await Wait.UntilAsync(() => watch.Deliveries.Any(d => d.Topic == Presence.Topic(ghost.Address) && d.Payload.Length == 0), "the ghost's presence is cleared");
        Assert.DoesNotContain(ghost.Address, (await MqttProbe.RetainedPresencesAsync(a.Address, 1883)).Keys);
        await WaitForMembersAsync(a, a.Address, b.Address, c.Address);
        Assert.Null(View(b).Find(ghost.Address));
    }

    [Fact]
    public async Task A_live_node_whose_presence_was_cleared_after_a_late_will_publishes_it_again_and_its_peers_take_it_back()
    {
        var a = await StartAsync();
        var b = await StartAsync(a);
        await WaitForMembersAsync(a, a.Address, b.Address);
        var late = await ProbeAsync(a);

        // What the broker sends when the keepalive of an earlier connection of B runs out after B has reconnected.
        await late.PublishAsync(MqttMembership.Remove, b.Address);

        await Wait.UntilAsync(() => Log(a).Contains($"Node {b.Address} left"), "A takes the late will for B's death");
        await Wait.UntilAsync(() => Log(b).Contains("Another node cleared this node's presence"), "B sees its presence cleared and publishes it again");
        await WaitForMembersAsync(a, a.Address, b.Address);
        await Wait.UntilAsync(() => View(a).Find(b.Address) is not null, "A has B's capabilities again");
        Assert.Contains(b.Address, (await MqttProbe.RetainedPresencesAsync(a.Address, 1883)).Keys);
    }

    [Fact]
    public async Task A_joiner_learns_the_members_from_their_presences_and_only_requesters_without_one_are_answered_on_nodes_request()
    {
        var a = await StartAsync();
        var b = await StartAsync(a);
        var c = await StartAsync(a);
        foreach (var node in new[] { a, b, c }) await WaitForMembersAsync(node, a.Address, b.Address, c.Address);
        var registers = await ProbeAsync(a, topics: MqttMembership.Register);

        var d = await StartAsync(a);
        await WaitForMembersAsync(d, a.Address, b.Address, c.Address, d.Address);
        foreach (var node in new[] { a, b, c }) Assert.NotNull(View(d).Find(node.Address));

        // An original node: v1 register and nodes_request, no presence. Every Motey.NET node answers it, and handles it
        // after D's request (each handles its messages in order): once all four answers are here, any answer to D's
        // request would be too.
        var original = await ProbeAsync(a, will: true);
        await original.PublishAsync(MqttMembership.Register, original.Address);
        await original.PublishAsync(MqttMembership.NodesRequest, original.Address);
        await Wait.UntilAsync(() => new[] { a, b, c, d }.All(n => registers.Count(MqttMembership.Register, n.Address) >= 1 + (n == d ? 1 : 0)),
            "every Motey.NET node answered the original's nodes_request", detail: () => string.Join(", ", registers.Deliveries.Select(r => r.Text)));
        // A, B and C registered once each since D joined: for the original, not for D, which has a presence.
        foreach (var node in new[] { a, b, c }) Assert.Equal(1, registers.Count(MqttMembership.Register, node.Address));
        // D registered when it joined, and for the original.
        Assert.Equal(2, registers.Count(MqttMembership.Register, d.Address));

        foreach (var node in new[] { a, b, c, d }) await WaitForMembersAsync(node, a.Address, b.Address, c.Address, d.Address, original.Address);
        Assert.Null(View(a).Find(original.Address));
        await original.PublishAsync(MqttMembership.Remove, original.Address);
        foreach (var node in new[] { a, b, c, d }) await WaitForMembersAsync(node, a.Address, b.Address, c.Address, d.Address);
    }

    [Fact]
    public async Task A_node_whose_presence_would_be_too_large_clears_it_and_answers_every_nodes_request()
    {
        var a = await StartAsync();
        var b = await StartAsync(a);
        await Wait.UntilAsync(() => View(a).Find(b.Address) is not null, "A has B's presence");
        var registers = await ProbeAsync(a, topics: MqttMembership.Register);

        // 300 capabilities of 250 characters: some 90 KB of presence.
        var many = string.Join(", ", Enumerable.Range(0, 300).Select(i => $$"""{"capability": "{{i:D3}}{{new string('c', 247)}}", "capability_type": "hardware"}"""));
        Assert.Equal(System.Net.HttpStatusCode.Created, (await b.SendAsync(HttpMethod.Put, "/v1/capabilities", $"[{many}]", "application/json")).StatusCode);

        await Wait.UntilAsync(() => View(a).Find(b.Address) is null, "A forgets B's capabilities: B cleared its presence");
        Assert.Contains("more than peers read", Log(b));
        Assert.DoesNotContain(b.Address, (await MqttProbe.RetainedPresencesAsync(a.Address, 1883)).Keys);
        Assert.Equal(new[] { a.Address, b.Address }.Order(StringComparer.Ordinal), await MembersAsync(a));

        // A requester with a presence: B, which has none out, answers it, as an original node would.
        var joiner = await ProbeAsync(a);
        await joiner.PublishPresenceAsync();
        await joiner.PublishAsync(MqttMembership.NodesRequest, joiner.Address);
        await Wait.UntilAsync(() => registers.Count(MqttMembership.Register, b.Address) == 1, "B answers the requester's nodes_request");
    }

    [Fact]
    public async Task Bad_presence_payloads_are_dropped_with_a_warning_and_change_nothing()
    {
        var a = await StartAsync();
        var peer = await ProbeAsync(a);
        var other = TestNode.NextAddress();
        var topic = Presence.Topic(peer.Address);
        var bad = new (string Topic, byte[] Payload, string Problem)[]
        {
            (topic, "not json"u8.ToArray(), "the payload is not JSON"),
            (topic, "[1, 2]"u8.ToArray(), "expected an object with address and capabilities, found an array"),
            (topic, Encoding.UTF8.GetBytes($$"""{"address": "{{peer.Address}}"}"""), "$.capabilities: required property 'capabilities' is missing"),
            (topic, Encoding.UTF8.GetBytes($$"""{"address": "{{peer.Address}}", "capabilities": [{"capability": "lab"}]}"""), "$.capabilities[0].capability_type: required property 'capability_type' is missing"),
            (topic, Encoding.UTF8.GetBytes($$"""{"address": "{{peer.Address}}", "capabilities": "lab"}"""), "$.capabilities: expected a list of capabilities, found a string"),
            (topic, Presence.Write(other, [new Capability("lab", "hardware")]), $"$.address: '{other}' is not the address the topic names ({peer.Address})"),
            (topic, [0x7b, 0xff, 0xfe, 0x7d], "the payload is not UTF-8 text"),
            (topic, Encoding.UTF8.GetBytes($$"""{"address": "{{peer.Address}}", "capabilities": [], "pad": "{{new string('x', Presence.MaxPayloadBytes)}}"}"""),
                $"bytes; a presence is at most {Presence.MaxPayloadBytes}"),
            (Presence.TopicPrefix + "node-7", Presence.Write("node-7", []), "the topic does not end in a node address written canonically"),
            (Presence.TopicPrefix + "127.1", Presence.Write("127.1", []), "the topic does not end in a node address written canonically"),
        };
        foreach (var (badTopic, payload, _) in bad) await peer.PublishAsync(badTopic, payload);

        // Messages from one client arrive in order: once the valid presence after them is read, every one before it was.
        const string Marker = "192.0.2.79";
        await peer.PublishAsync(Presence.Topic(Marker), Presence.Write(Marker, [new Capability("lab", "hardware")]));
        await WaitForMembersAsync(a, a.Address, Marker);
        Assert.Equal([Marker], View(a).Addresses);
        var log = Log(a);
        foreach (var (badTopic, _, problem) in bad)
            Assert.True(log.Contains(problem, StringComparison.Ordinal), $"no warning saying '{problem}' for {badTopic}:\n{log}");
        Assert.Equal(bad.Length, log.Split('\n').Count(line => line.Contains("[WRN]") && line.Contains("Dropped the") && line.Contains(Presence.TopicPrefix)));
    }
}
