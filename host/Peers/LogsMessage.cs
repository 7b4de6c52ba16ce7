using System.Text.Json;
using System.Text.Json.Serialization;
using Motey.Abstractions;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Peers;

/// <summary>
/// Instance logs on the wire, carried by the capabilities replier (as the fence is) with a text prefix:
/// <c>motey-logs/1 {"op": "open", "service_id", "image_index", "instance_id", "engine", "tail", "follow"}</c>, then
/// <c>{"op": "next", "session"}</c> until the answer says <c>end</c>, or <c>{"op": "close", "session"}</c>. Every answer
/// carries the same prefix: <c>{"session", "lines": [LogLine...], "end", "more"}</c> or <c>{"error", "code"}</c>
/// (code: not_found, not_supported, busy, failed). An original node answers any of it with its capability list, which
/// has no prefix: the requester recognises that and says the node does not serve logs.
/// </summary>
internal static class LogsMessage
{
    public const string Prefix = "motey-logs/1 ";

    public const string Open = "open";
    public const string Next = "next";
    public const string Close = "close";

    /// <summary>The codes of an error answer.</summary>
    public static class Codes
    {
        public const string NotFound = "not_found";
        public const string NotSupported = "not_supported";
        public const string Busy = "busy";
        public const string Failed = "failed";
    }

    internal sealed record Request
    {
        [JsonPropertyName("op")] public string? Op { get; init; }
        [JsonPropertyName("session")] public string? Session { get; init; }
        [JsonPropertyName("service_id")] public string? ServiceId { get; init; }
        [JsonPropertyName("image_index")] public int? ImageIndex { get; init; }
        [JsonPropertyName("instance_id")] public string? InstanceId { get; init; }
        [JsonPropertyName("engine")] public string? Engine { get; init; }
        [JsonPropertyName("tail")] public int? Tail { get; init; }
        [JsonPropertyName("follow")] public bool Follow { get; init; }
    }

    internal sealed record Reply
    {
        [JsonPropertyName("session")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Session { get; init; }
        [JsonPropertyName("lines")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<LogLine>? Lines { get; init; }
        [JsonPropertyName("end")] public bool End { get; init; }
        /// <summary>The answer was cut at its size limit: more is buffered, ask again at once.</summary>
        [JsonPropertyName("more")] public bool More { get; init; }
        [JsonPropertyName("error")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
        [JsonPropertyName("code")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Code { get; init; }
    }

    public static string WriteOpen(LogTarget target, LogRequest request) => Write(new Request
    {
        Op = Open, ServiceId = target.ServiceId, ImageIndex = target.ImageIndex, InstanceId = target.InstanceId,
        Engine = target.Engine, Tail = request.Tail, Follow = request.Follow,
    });

    public static string WriteNext(string session) => Write(new Request { Op = Next, Session = session });

    public static string WriteClose(string session) => Write(new Request { Op = Close, Session = session });

    private static string Write(Request request) => Prefix + JsonSerializer.Serialize(request);

    public static string WriteReply(Reply reply) => Prefix + JsonSerializer.Serialize(reply);

    public static string WriteError(string code, string error) => WriteReply(new Reply { Error = error, Code = code });

    /// <summary>The request in <paramref name="text"/> (which starts with <see cref="Prefix"/>), or null with what is wrong.</summary>
    public static Request? ReadRequest(string text, out string? problem)
    {
        problem = null;
        Request? request;
        try
        {
            request = JsonSerializer.Deserialize<Request>(text.AsSpan(Prefix.Length));
        }
        catch (JsonException e)
        {
            problem = $"the logs request is not valid JSON: {e.Message}";
            return null;
        }
        switch (request?.Op)
        {
            case Open when request.ServiceId is not { Length: > 0 } || request.InstanceId is not { Length: > 0 } || request.Engine is not { Length: > 0 }
                           || request.ImageIndex is not >= 0:
                problem = "a logs open request needs service_id, image_index (>= 0), instance_id and engine";
                return null;
            case Open when request.Tail is < 0:
                problem = "tail must be >= 0";
                return null;
            case Open:
                return request;
            case Next or Close when request.Session is not { Length: > 0 }:
                problem = $"a logs {request.Op} request needs the session";
                return null;
            case Next or Close:
                return request;
            default:
                problem = $"unknown logs op '{request?.Op}'; expected open, next or close";
                return null;
        }
    }

    /// <summary>The answer in <paramref name="text"/>; null with what is wrong when it is not a logs answer.</summary>
    public static Reply? ReadReply(string text, out string? problem) =>
        PrefixedAnswer.Read<Reply>(text, Prefix, "a logs", reply => reply.Error is not null || reply.Session is not null
            ? null : "the answer has neither a session nor an error", out problem) is { } reply ? reply with { Lines = reply.Lines ?? [] } : null;
}
