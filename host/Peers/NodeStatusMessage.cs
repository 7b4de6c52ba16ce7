using System.Text.Json;
using System.Text.Json.Serialization;
using Motey.Host.Health;

namespace Motey.Host.Peers;

/// <summary>
/// A node's cpu, memory and disk use on the wire, carried by the capabilities replier (as the logs are) with a text
/// prefix: the request is <c>motey-nodestatus/1 {}</c>; the answer carries the same prefix, <c>{"status": NodeStatus}</c>
/// or <c>{"error"}</c>. An original node answers it with its capability list, which has no prefix: the requester
/// recognises that and says the node does not serve its status.
/// </summary>
internal static class NodeStatusMessage
{
    public const string Prefix = "motey-nodestatus/1 ";

    /// <summary>The request: nothing to say beyond the prefix; the empty object leaves room for options.</summary>
    public const string Request = Prefix + "{}";

    internal sealed record Reply
    {
        [JsonPropertyName("status")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public NodeStatus? Status { get; init; }
        [JsonPropertyName("error")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
    }

    public static string WriteReply(NodeStatus status) => Prefix + JsonSerializer.Serialize(new Reply { Status = status });

    public static string WriteError(string error) => Prefix + JsonSerializer.Serialize(new Reply { Error = error });

    /// <summary>The answer in <paramref name="text"/>; null with what is wrong when it is not a node status answer.</summary>
    public static Reply? ReadReply(string text, out string? problem) =>
        PrefixedAnswer.Read<Reply>(text, Prefix, "a node status", reply => reply is { Error: not null } or { Status: { Memory: not null, Disk: not null } }
            ? null : "the answer has neither a complete status (cpu, memory, disk) nor an error", out problem);
}
