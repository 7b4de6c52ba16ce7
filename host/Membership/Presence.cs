using System.Buffers;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;
using Motey.Host.Parsing;

namespace Motey.Host.Membership;

/// <summary>
/// The v2 presence of a Motey.NET node: one retained message per node on <c>motey/v2/nodes/&lt;address&gt;</c> (QoS 0),
/// <c>{"address": "10.0.0.5", "capabilities": [{"capability": "docker", "capability_type": "plugin"}, ...], "agent": "Motey.NET 0.2.0"}</c>,
/// the capabilities as <c>GET /v1/capabilities</c> lists them. An empty retained payload clears it. A joining node reads
/// every member's presence from the broker in one delivery each (the broker keeps them), instead of asking every node to
/// announce itself to every node; placement reads the capabilities without asking. Original nodes know nothing of it.
/// </summary>
internal static class Presence
{
    public const string TopicPrefix = "motey/v2/nodes/";

    /// <summary>What a node subscribes to: every node's presence, its own included.</summary>
    public const string Subscription = TopicPrefix + "+";

    /// <summary>
    /// The largest presence read (and published): room for a few hundred capabilities of ordinary names. Beyond it a
    /// payload is dropped unread, so a peer cannot make every node parse megabytes; a node whose own presence would be
    /// larger clears it instead and is asked the v1 way.
    /// </summary>
    public const int MaxPayloadBytes = 64 * 1024;

    /// <summary>What the <c>agent</c> field says of this build.</summary>
    public static readonly string Agent = $"Motey.NET {Version(typeof(Presence).Assembly.GetName().Version)}";

    // A presence is two levels deep below its capability list; anything much deeper is not one.
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 16 };
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static string Topic(string address) => TopicPrefix + address;

    /// <summary>
    /// The address a presence topic names, or null when the topic is no presence topic or does not name an address in
    /// its canonical form (a topic is an exact string: "FD00::1" and "fd00::1" would be two retained slots for one node).
    /// </summary>
    public static string? AddressOf(string topic)
    {
        if (!topic.StartsWith(TopicPrefix, StringComparison.Ordinal)) return null;
        var text = topic[TopicPrefix.Length..];
        return MqttMembership.CanonicalAddress(text) is { } address && address == text ? address : null;
    }

    /// <summary>The presence payload of <paramref name="address"/> with <paramref name="capabilities"/>, as UTF-8 JSON.</summary>
    public static byte[] Write(string address, IReadOnlyList<Capability> capabilities)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("address", address);
            json.WritePropertyName("capabilities");
            JsonSerializer.Serialize(json, capabilities);
            json.WriteString("agent", Agent);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>What a presence message says: the capabilities it lists, or why it is no presence of <paramref name="topicAddress"/>.</summary>
    public readonly record struct Reading(IReadOnlyList<Capability>? Capabilities, string? Problem);

    /// <summary>
    /// Reads a non-empty presence payload published on the topic of <paramref name="topicAddress"/>. It must be at most
    /// <see cref="MaxPayloadBytes"/> of UTF-8 JSON, an object with <c>address</c> (exactly the topic's) and
    /// <c>capabilities</c> (a list of capability objects, possibly empty); <c>agent</c>, when given, is text. Other
    /// members are ignored, so a later version may add some. Never throws on bad input.
    /// </summary>
    public static Reading Read(string topicAddress, ReadOnlySequence<byte> payload)
    {
        if (payload.Length > MaxPayloadBytes)
            return Problem($"the payload is {payload.Length} bytes; a presence is at most {MaxPayloadBytes}");
        string text;
        try
        {
            text = StrictUtf8.GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            return Problem("the payload is not UTF-8 text");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, ReadOptions);
        }
        catch (JsonException e)
        {
            return Problem($"the payload is not JSON: {JsonSyntax.Error(text, e)}");
        }
        using (document)
        {
            return Read(topicAddress, document.RootElement);
        }
    }

    private static Reading Read(string topicAddress, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return Problem($"expected an object with address and capabilities, found {CapabilityListParser.Describe(root)}");
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("address" or "capabilities" or "agent")) continue;
            // JSON allows a name twice and readers disagree on which wins; refuse rather than guess.
            if (!members.TryAdd(property.Name, property.Value)) return Problem($"$.{property.Name}: property '{property.Name}' is given twice");
        }
        JsonElement? address = members.TryGetValue("address", out var a) ? a : null;
        JsonElement? capabilities = members.TryGetValue("capabilities", out var c) ? c : null;
        JsonElement? agent = members.TryGetValue("agent", out var g) ? g : null;
        if (address is not { } addressValue) return Problem("$.address: required property 'address' is missing");
        if (addressValue.ValueKind != JsonValueKind.String)
            return Problem($"$.address: expected a string, found {CapabilityListParser.Describe(addressValue)}");
        if (addressValue.GetString() != topicAddress)
            return Problem($"$.address: '{Printable(addressValue.GetString()!)}' is not the address the topic names ({topicAddress})");
        if (agent is { ValueKind: not JsonValueKind.String } agentValue)
            return Problem($"$.agent: expected a string, found {CapabilityListParser.Describe(agentValue)}");
        if (capabilities is not { } list) return Problem("$.capabilities: required property 'capabilities' is missing");
        if (list.ValueKind != JsonValueKind.Array)
            return Problem($"$.capabilities: expected a list of capabilities, found {CapabilityListParser.Describe(list)}");
        var errors = new List<InputError>();
        var read = new List<Capability>();
        var seen = new HashSet<Capability>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (CapabilityItem.Read(item, InputPath.Index("$.capabilities", index++), errors) is { } capability && seen.Add(capability))
                read.Add(capability);
        }
        return errors.Count == 0 ? new Reading(read, null) : Problem(string.Join("; ", errors.Take(3)) + (errors.Count > 3 ? $" (and {errors.Count - 3} more)" : ""));
    }

    private static Reading Problem(string problem) => new(null, problem);

    /// <summary>A peer's own text bounded and on one line, so it cannot forge log lines.</summary>
    private static string Printable(string text)
    {
        var clean = new string(text.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return text.Length > 64 ? clean + "..." : clean;
    }

    private static string Version(System.Version? version) =>
        version is null ? "unknown" : $"{version.Major}.{version.Minor}.{Math.Max(version.Build, 0)}";
}
