using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MQTTnet;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Reliability;

/// <summary>
/// The MQTT part of the bad-input corpus: payloads on the membership topics (the node's address as plain text),
/// published with a client of our own to the node's embedded broker. Garbage never becomes a node, the node never
/// leaves its own list, and a valid announcement after the garbage still works.
/// </summary>
public sealed class MqttBadInputTests : IAsyncLifetime
{
    private static readonly string[] Topics = [MqttMembership.Register, MqttMembership.Remove, MqttMembership.NodesRequest];

    /// <summary>Payloads that are no address at all.</summary>
    public static IEnumerable<(string Name, byte[] Payload)> Garbage()
    {
        (string, byte[]) Text(string name, string text) => (name, Encoding.UTF8.GetBytes(text));
        yield return ("empty", []);
        yield return Text("words", "not an address");
        yield return Text("a host name", "node-7");
        yield return Text("localhost", "localhost");
        yield return Text("a domain", "example.com");
        yield return Text("an octet over 255", "300.1.1.1");
        yield return Text("five parts", "1.2.3.4.5");
        yield return Text("an address with a port", "192.0.2.7:5023");
        yield return Text("a URL", "tcp://192.0.2.7:5091");
        yield return Text("a shell command", "192.0.2.7; rm -rf /");
        yield return Text("two addresses on two lines", "192.0.2.7\n192.0.2.8");
        yield return Text("an address and a NUL", "192.0.2.7\0");
        yield return Text("a NUL", "\0");
        yield return Text("markup", "<script>alert(1)</script>");
        yield return Text("SQL", "' OR 1=1 --");
        yield return Text("JSON", """{"ip": "192.0.2.7"}""");
        yield return Text("65 characters", new string('1', 65));
        yield return Text("1 MB", new string('9', 1 << 20));
        yield return ("bytes that are not UTF-8", [0x31, 0x39, 0x32, 0xff, 0xfe]);
        yield return ("Latin-1", Encoding.Latin1.GetBytes("192.0.2.\u00b9"));
        yield return ("UTF-16", Encoding.Unicode.GetBytes("192.0.2.7"));
        yield return Text("an unclosed bracket", "[::1");
        yield return Text("a bad IPv6 group", "fd00::g");
        yield return Text("IPv6 with an empty zone", "fe80::1%");
    }

    /// <summary>
    /// Payloads .NET parses as an IP address although no node would announce them so: shorthand and octal forms that
    /// name a different address than they seem to, and addresses no node can have (unspecified, broadcast, multicast).
    /// </summary>
    public static IEnumerable<string> NotANodeAddress() =>
    [
        "1", "4294967295", "0x7f000001", "127.1", "010.0.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1",
    ];

    private readonly TestFolder _folder = new();
    private TestNode _node = null!;
    private IMqttClient _mqtt = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeState.StartPopulatedNodeAsync(_folder);
        // Messages published before the node subscribes would be lost (QoS 0): wait until it has joined its broker.
        await Wait.UntilAsync(async () => await _node.Client.GetStringAsync("/healthz") == "Healthy", "the node has joined its embedded broker");
        _mqtt = new MqttClientFactory().CreateMqttClient();
        await _mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(_node.Address, 1883).WithClientId("motey-corpus").Build());
    }

    public async Task DisposeAsync()
    {
        await _mqtt.DisconnectAsync();
        _mqtt.Dispose();
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Garbage_on_every_membership_topic_never_becomes_a_node_and_a_valid_register_after_it_still_works()
    {
        var cases = Garbage().ToList();
        var before = await NodeState.ReadSettledAsync(_node.Client);
        foreach (var topic in Topics)
            foreach (var (_, payload) in cases) await PublishAsync(topic, payload);
        // The node itself says goodbye and hello: it is not its own peer, and it never leaves its own list.
        await PublishAsync(MqttMembership.Remove, Encoding.UTF8.GetBytes(_node.Address));
        await PublishAsync(MqttMembership.Register, Encoding.UTF8.GetBytes(_node.Address));

        // Messages from one client arrive in order: once the marker is listed, every payload before it was handled.
        const string Marker = "192.0.2.77";
        await PublishAsync(MqttMembership.Register, Encoding.UTF8.GetBytes(Marker));
        var nodes = await WaitForNodesAsync(n => n.Any(x => x.Ip == Marker), "the valid register after the garbage is listed");
        Assert.Equal([(_node.Address, true), (Marker, false)], nodes.Select(n => (n.Ip, n.Self)).ToList());

        await PublishAsync(MqttMembership.Remove, Encoding.UTF8.GetBytes(Marker));
        await WaitForNodesAsync(n => n.Count == 1, "the marker node is removed again");
        await NodeState.AssertHealthyAndUnchangedAsync(_node.Client, before, $"{cases.Count * Topics.Length + 2} bad membership messages");
    }

    [Fact]
    public async Task An_ipv6_node_is_listed_in_canonical_form_and_removed_by_any_spelling_of_its_address()
    {
        await PublishAsync(MqttMembership.Register, Encoding.UTF8.GetBytes("FD00:0:0::77"));
        await WaitForNodesAsync(n => n.Any(x => x.Ip == "fd00::77"), "the IPv6 node is listed as fd00::77");
        await PublishAsync(MqttMembership.Remove, Encoding.UTF8.GetBytes(" fd00::0077 "));
        await WaitForNodesAsync(n => n.Count == 1 && n[0].Self, "the IPv6 node is removed");
    }

    [Fact]
    public async Task Register_payloads_that_only_parse_as_shorthand_octal_or_non_unicast_addresses_never_become_nodes()
    {
        var cases = NotANodeAddress().ToList();
        foreach (var text in cases) await PublishAsync(MqttMembership.Register, Encoding.UTF8.GetBytes(text));
        const string Marker = "192.0.2.78";
        await PublishAsync(MqttMembership.Register, Encoding.UTF8.GetBytes(Marker));
        var nodes = await WaitForNodesAsync(n => n.Any(x => x.Ip == Marker), "the valid register after them is listed");

        var accepted = nodes.Where(n => !n.Self && n.Ip != Marker).Select(n => n.Ip).ToList();
        Assert.True(accepted.Count == 0,
            $"{accepted.Count} of {cases.Count} payloads that are not a node's address became nodes: {string.Join(", ", accepted)} (sent: {string.Join(", ", cases)})");
    }

    private Task PublishAsync(string topic, byte[] payload) =>
        _mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).Build());

    private sealed record Member(string Ip, bool Self);

    private async Task<List<Member>> WaitForNodesAsync(Func<List<Member>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var list = (await _node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!;
            var nodes = list.Select(n => new Member(n.GetProperty("ip").GetString()!, n.GetProperty("self").GetBoolean())).ToList();
            if (condition(nodes)) return nodes;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}; the node lists {string.Join(", ", nodes)}");
            await Task.Delay(50);
        }
    }
}
