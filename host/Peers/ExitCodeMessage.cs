using System.Text.Json;
using System.Text.Json.Serialization;

namespace Motey.Host.Peers;

/// <summary>
/// The exit code of an instance that ended on the node that ran it, carried by the capabilities replier (as the logs
/// and the node status are) with a text prefix: the request is <c>motey-exitcode/1 {"engine", "instance_id"}</c>; the
/// answer carries the same prefix, <c>{"exit_code": n}</c> (<c>null</c> when the engine does not know it) or
/// <c>{"error"}</c>. Why it exists: the v1 status answer is a state alone, so without it every instance that ended on
/// another node counted as failed, and the default restart policy (on-failure) ran a job that had finished with 0
/// a second time. An original node answers it with its capability list: the exit code stays unknown, as before.
/// </summary>
internal static class ExitCodeMessage
{
    public const string Prefix = "motey-exitcode/1 ";

    internal sealed record Request(
        [property: JsonPropertyName("engine")] string Engine,
        [property: JsonPropertyName("instance_id")] string InstanceId);

    internal sealed record Reply
    {
        [JsonPropertyName("exit_code")] public int? ExitCode { get; init; }
        [JsonPropertyName("error")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
    }

    public static string WriteRequest(string engine, string instanceId) => Prefix + JsonSerializer.Serialize(new Request(engine, instanceId));

    /// <summary>The request in <paramref name="text"/>; null with what is wrong when it cannot be read.</summary>
    public static Request? ReadRequest(string text, out string? problem)
    {
        problem = null;
        try
        {
            var request = JsonSerializer.Deserialize<Request>(text.AsSpan(Prefix.Length));
            if (request is { Engine.Length: > 0, InstanceId.Length: > 0 }) return request;
            problem = "the exit code request names no engine or no instance_id";
        }
        catch (JsonException e)
        {
            problem = $"the exit code request is not valid JSON: {e.Message}";
        }
        return null;
    }

    public static string WriteReply(int? exitCode) => Prefix + JsonSerializer.Serialize(new Reply { ExitCode = exitCode });

    public static string WriteError(string error) => Prefix + JsonSerializer.Serialize(new Reply { Error = error });

    /// <summary>The answer in <paramref name="text"/>; null with what is wrong when it is not an exit code answer.</summary>
    public static Reply? ReadReply(string text, out string? problem) =>
        PrefixedAnswer.Read<Reply>(text, Prefix, "an exit code", _ => null, out problem);
}
