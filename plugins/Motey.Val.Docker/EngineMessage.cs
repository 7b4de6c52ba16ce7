using System.Text.Json;
using Docker.DotNet;

namespace Motey.Val.Docker;

/// <summary>What the engine said when it refused a request: the <c>message</c> of its JSON error body.</summary>
internal static class EngineMessage
{
    public static string Of(DockerApiException e) => Of(e.ResponseBody, (int)e.StatusCode);

    internal static string Of(string? body, int statusCode)
    {
        var text = body?.Trim() ?? "";
        if (text.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                    && message.GetString() is { Length: > 0 } said)
                {
                    return said;
                }
            }
            catch (JsonException)
            {
                // Not the engine's JSON (a proxy's page, say): the raw body says more than nothing.
            }
        }
        return text.Length > 0 ? text : $"HTTP status {statusCode}";
    }
}
