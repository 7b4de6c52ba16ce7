using System.Text.Json;
using System.Text.Json.Serialization;
using Motey.Host.Core.Fencing;

namespace Motey.Host.Peers;

/// <summary>
/// The fence on the wire, carried by the capabilities replier so no new port is needed: a request
/// <c>fence#{"holder": "127.0.0.3", "instances": [{"id", "engine", "image", "service", "index", "placed_by", "generation"}]}</c>
/// is answered <c>fence#[{"id", "keep", "reason"}]</c>. An original node answers it with its capability list, as it
/// answers anything there: that answer means "no opinion".
/// </summary>
internal static class FenceMessage
{
    public const string Prefix = "fence#";

    /// <summary>More instances than this in one request are refused: the fence sends one request per placing node.</summary>
    public const int MaxInstances = 10_000;

    private sealed record Request(
        [property: JsonPropertyName("holder")] string Holder,
        [property: JsonPropertyName("instances")] IReadOnlyList<HeldInstance> Instances);

    public static string WriteRequest(string holder, IReadOnlyList<HeldInstance> held) =>
        Prefix + JsonSerializer.Serialize(new Request(holder, held));

    public static string WriteReply(IReadOnlyList<FenceVerdict> verdicts) => Prefix + JsonSerializer.Serialize(verdicts);

    /// <summary>The request in <paramref name="text"/> (which starts with <see cref="Prefix"/>), or null with what is wrong.</summary>
    public static (string Holder, IReadOnlyList<HeldInstance> Held)? ReadRequest(string text, out string? problem)
    {
        problem = null;
        try
        {
            var request = JsonSerializer.Deserialize<Request>(text.AsSpan(Prefix.Length));
            if (request?.Holder is not { Length: > 0 } || request.Instances is null) problem = "a fence request needs a holder and instances";
            else if (request.Instances.Count > MaxInstances) problem = $"a fence request names at most {MaxInstances} instances";
            else if (request.Instances.Any(i => i?.Id is null || i.ServiceId is null)) problem = "every instance needs an id and a service";
            else return (request.Holder, request.Instances);
        }
        catch (JsonException e)
        {
            problem = $"the fence request is not valid JSON: {e.Message}";
        }
        return null;
    }

    /// <summary>The verdicts in a reply; null when the reply is not a fence answer (an original node's capability list).</summary>
    public static IReadOnlyList<FenceVerdict>? ReadReply(string reply)
    {
        if (!reply.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        try
        {
            return JsonSerializer.Deserialize<List<FenceVerdict>>(reply.AsSpan(Prefix.Length))?.Where(v => v?.Id is not null).ToList();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
