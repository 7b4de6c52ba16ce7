using System.Net;
using System.Text.Json;

namespace Motey.Host.CommandLine.Client;

/// <summary>A node's refusal (problem details, RFC 9457) as the plain sentence a person reads on stderr.</summary>
internal static class ProblemText
{
    /// <summary>Titles that say no more than the status: the detail alone is the sentence.</summary>
    private static readonly HashSet<string> PlainTitles = new(StringComparer.OrdinalIgnoreCase)
    {
        "Not found", "Conflict", "Bad Request", "Not Found", "Internal Server Error", "Bad Gateway", "Not Implemented", "Service Unavailable",
    };

    /// <summary>
    /// "Invalid blueprint: images[0].engine: required (line 3, column 3)" from a problem with title and detail; the detail
    /// alone when the title only names the status; "the node answered 500 Internal Server Error" when the body is no problem.
    /// </summary>
    public static string Sentence(HttpStatusCode status, string? reason, string body)
    {
        var code = $"{(int)status} {reason ?? status.ToString()}".Trim();
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && (Text(root, "title") is not null || Text(root, "detail") is not null))
            {
                var title = Text(root, "title");
                var detail = Text(root, "detail");
                var sentence = detail is null ? title!
                    : title is null || PlainTitles.Contains(title) || detail.StartsWith(title, StringComparison.OrdinalIgnoreCase) ? detail
                    : $"{title}: {detail}";
                if (Text(root, "existing_id") is { } existing) sentence += $" (service {existing})";
                return sentence;
            }
        }
        catch (JsonException)
        {
            // not JSON: said below
        }
        var firstLine = body.Split('\n', 2)[0].Trim();
        return firstLine.Length is > 0 and <= 300 ? $"the node answered {code}: {firstLine}" : $"the node answered {code}";
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
