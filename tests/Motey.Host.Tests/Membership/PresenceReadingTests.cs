using System.Buffers;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;
using Motey.Host.Membership;

namespace Motey.Host.Tests.Membership;

/// <summary>The presence message itself: what a node writes, what a node reads, and what it refuses to read.</summary>
public sealed class PresenceReadingTests
{
    private const string Address = "10.0.0.5";

    private static Presence.Reading Read(string json, string address = Address) =>
        Presence.Read(address, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void A_written_presence_is_the_documented_json_and_reads_back_as_its_capabilities()
    {
        IReadOnlyList<Capability> capabilities = [new("docker", Capability.PluginType), new("lab", "hardware")];
        var payload = Presence.Write(Address, capabilities);

        var json = JsonSerializer.Deserialize<JsonElement>(payload);
        Assert.Equal(["address", "capabilities", "agent"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("""[{"capability":"docker","capability_type":"plugin"},{"capability":"lab","capability_type":"hardware"}]""",
            json.GetProperty("capabilities").GetRawText());
        Assert.Matches(@"^Motey\.NET \d+\.\d+\.\d+$", json.GetProperty("agent").GetString());
        var reading = Presence.Read(Address, new ReadOnlySequence<byte>(payload));
        Assert.Null(reading.Problem);
        Assert.Equal(capabilities, reading.Capabilities);
    }

    [Fact]
    public void A_presence_with_no_capabilities_without_an_agent_or_with_members_of_a_later_version_is_read()
    {
        Assert.Equal([], Read($$"""{"address": "{{Address}}", "capabilities": []}""").Capabilities);
        Assert.Equal([new Capability("lab", "hardware")],
            Read($$$"""{"address": "{{{Address}}}", "capabilities": [{"capability": "lab", "capability_type": "hardware"}], "ports": {"rest": 5023}}""").Capabilities);
    }

    [Theory]
    [InlineData("", "the payload is not JSON")]
    [InlineData("{", "the payload is not JSON")]
    [InlineData("null", "found null")]
    [InlineData("\"10.0.0.5\"", "found a string")]
    [InlineData("""{"capabilities": []}""", "$.address: required property 'address' is missing")]
    [InlineData("""{"address": 5, "capabilities": []}""", "$.address: expected a string, found a number")]
    [InlineData("""{"address": "10.0.0.6", "capabilities": []}""", "$.address: '10.0.0.6' is not the address the topic names (10.0.0.5)")]
    [InlineData("""{"address": "10.0.0.5", "address": "10.0.0.5", "capabilities": []}""", "$.address: property 'address' is given twice")]
    [InlineData("""{"address": "10.0.0.5"}""", "$.capabilities: required property 'capabilities' is missing")]
    [InlineData("""{"address": "10.0.0.5", "capabilities": {}}""", "$.capabilities: expected a list of capabilities, found an object")]
    [InlineData("""{"address": "10.0.0.5", "capabilities": ["lab"]}""", "$.capabilities[0]: expected an object with capability and capability_type, found a string")]
    [InlineData("""{"address": "10.0.0.5", "capabilities": [{"capability": "", "capability_type": "x"}]}""", "$.capabilities[0].capability: must not be empty")]
    [InlineData("""{"address": "10.0.0.5", "capabilities": [], "agent": 2}""", "$.agent: expected a string, found a number")]
    public void A_payload_that_is_no_presence_of_the_topics_node_is_refused_saying_why(string json, string problem)
    {
        var reading = Read(json);
        Assert.Null(reading.Capabilities);
        Assert.Contains(problem, reading.Problem);
    }

    [Fact]
    public void An_oversized_payload_is_refused_unread()
    {
        var reading = Presence.Read(Address, new ReadOnlySequence<byte>(new byte[Presence.MaxPayloadBytes + 1]));
        Assert.Equal($"the payload is {Presence.MaxPayloadBytes + 1} bytes; a presence is at most {Presence.MaxPayloadBytes}", reading.Problem);
    }

    [Theory]
    [InlineData("motey/v2/nodes/10.0.0.5", "10.0.0.5")]
    [InlineData("motey/v2/nodes/fd00::5", "fd00::5")]
    [InlineData("motey/v2/nodes/FD00::5", null)]
    [InlineData("motey/v2/nodes/127.1", null)]
    [InlineData("motey/v2/nodes/0.0.0.0", null)]
    [InlineData("motey/v2/nodes/", null)]
    [InlineData("motey/v2/nodes/node-7", null)]
    [InlineData("motey/v1/register", null)]
    public void A_presence_topic_names_a_node_only_by_its_canonical_address(string topic, string? address) =>
        Assert.Equal(address, Presence.AddressOf(topic));
}
