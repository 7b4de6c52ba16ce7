using System.Text.Json;

namespace Motey.Host.Peers;

/// <summary>
/// Reads the answer to one of this agent's own messages on the capabilities replier (logs, node status, exit code):
/// the message's text prefix, then JSON. One reader, so every such message says the same things of a wrong answer.
/// </summary>
internal static class PrefixedAnswer
{
    /// <summary>
    /// The answer in <paramref name="text"/>, or null with what is wrong: not <paramref name="subject"/> answer (no
    /// <paramref name="prefix"/>), not valid JSON, or what <paramref name="check"/> finds missing (null when complete).
    /// </summary>
    public static T? Read<T>(string text, string prefix, string subject, Func<T, string?> check, out string? problem) where T : class
    {
        problem = null;
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            problem = $"the answer is not {subject} answer";
            return null;
        }
        try
        {
            var reply = JsonSerializer.Deserialize<T>(text.AsSpan(prefix.Length));
            problem = reply is null ? "the answer is null" : check(reply);
            return problem is null ? reply : null;
        }
        catch (JsonException e)
        {
            problem = $"the answer is not valid JSON: {e.Message}";
            return null;
        }
    }
}
