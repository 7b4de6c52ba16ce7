using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Parsing;

namespace Motey.Host.Peers;

/// <summary>An image as the deploy, status and terminate requests carry it, with the labels our own nodes add.</summary>
internal sealed record ImageRequest(Image Image, IReadOnlyDictionary<string, string>? Labels);

/// <summary>
/// The Image JSON of the original (<c>{"id", "name", "engine", "parameters", "capabilities", "node"}</c>) plus one
/// extension: <c>"labels": {"motey.service.id": ..., ...}</c>, which the original ignores. Reading is lenient where
/// the original was loose (it sends <c>{}</c> for a missing node or capability list) and strict where this node
/// needs a value (name, engine, and the instance id for status and terminate).
/// </summary>
internal static class ImageMessage
{
    public const string LabelsKey = "labels";

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static string Write(Image image, IReadOnlyDictionary<string, string>? labels)
    {
        var json = JsonSerializer.SerializeToNode(image)!.AsObject();
        if (labels is not null) json[LabelsKey] = JsonSerializer.SerializeToNode(labels);
        return json.ToJsonString();
    }

    /// <summary>The image in <paramref name="text"/>, or null with what is wrong. Never throws on bad input.</summary>
    public static ImageRequest? Read(string text, bool requireId, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "the request is empty; expected an image as JSON";
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            problem = "the request is not valid JSON: " + JsonSyntax.Error(text, e);
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"expected an image as a JSON object, found {CapabilityListParser.Describe(root)}";
                return null;
            }
            var errors = new List<string>();
            var name = RequiredText(root, "name", errors);
            var engine = RequiredText(root, "engine", errors);
            var id = OptionalText(root, "id", errors) ?? "";
            if (requireId && id.Length == 0 && !errors.Any(e => e.StartsWith("id", StringComparison.Ordinal)))
                errors.Add("id: the instance id is required");
            var parameters = Parameters(root, errors);
            var labels = Labels(root, errors);
            if (errors.Count > 0)
            {
                problem = string.Join("; ", errors);
                return null;
            }
            var image = new Image
            {
                Id = id,
                Name = name!,
                Engine = engine!,
                Parameters = parameters,
                Capabilities = Strings(root, "capabilities"),
                Node = root.TryGetProperty("node", out var node) && node.ValueKind == JsonValueKind.String ? node.GetString() : null,
            };
            return new ImageRequest(image, labels);
        }
    }

    private static string? RequiredText(JsonElement root, string key, List<string> errors)
    {
        if (!root.TryGetProperty(key, out var value))
        {
            errors.Add($"{key}: required property is missing");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            errors.Add($"{key}: expected a non-empty string, found {Found(value)}");
            return null;
        }
        if (Motey.Host.Parsing.InputText.ControlCharacter(value.GetString()!) is { } bad)
        {
            errors.Add($"{key}: contains control character {bad}");
            return null;
        }
        return value.GetString();
    }

    private static string? OptionalText(JsonElement root, string key, List<string> errors)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        errors.Add($"{key}: expected a string, found {Found(value)}");
        return null;
    }

    private static Dictionary<string, JsonElement> Parameters(JsonElement root, List<string> errors)
    {
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (!root.TryGetProperty("parameters", out var value) || value.ValueKind == JsonValueKind.Null) return parameters;
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"parameters: expected an object, found {Found(value)}");
            return parameters;
        }
        foreach (var property in value.EnumerateObject()) parameters[property.Name] = property.Value.Clone();
        return parameters;
    }

    private static Dictionary<string, string>? Labels(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty(LabelsKey, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{LabelsKey}: expected an object of strings, found {Found(value)}");
            return null;
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String && property.Name.Length > 0) labels[property.Name] = property.Value.GetString()!;
            else errors.Add($"{LabelsKey}.{property.Name}: expected a string, found {Found(property.Value)}");
        }
        return labels;
    }

    /// <summary>The strings of a list; the original sends <c>{}</c> for "none", and the list is informational here.</summary>
    private static List<string> Strings(JsonElement root, string key) =>
        root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : [];

    private static string Found(JsonElement value) => CapabilityListParser.Describe(value);
}

/// <summary>The capabilities replier's answer: the original's JSON list, <c>[]</c> when there are none.</summary>
internal static class CapabilityReply
{
    public static string Write(IReadOnlyList<Capability> capabilities) => JsonSerializer.Serialize(capabilities);

    /// <summary>
    /// The list in a peer's answer, or null with what is wrong. Lenient where the original differs: its capability
    /// repository stores <c>{"capability": ..., "type": ...}</c> (so <c>type</c> is read where <c>capability_type</c>
    /// is missing), it sends <c>null</c> when it has none (an empty list), and its documents may carry more fields.
    /// </summary>
    public static IReadOnlyList<Capability>? Read(string text) => Read(text, out _);

    /// <inheritdoc cref="Read(string)"/>
    public static IReadOnlyList<Capability>? Read(string text, out string? problem)
    {
        problem = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            problem = "not JSON: " + JsonSyntax.Error(text, e);
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Null) return [];
            if (root.ValueKind != JsonValueKind.Array)
            {
                problem = $"expected a list of capabilities, found {CapabilityListParser.Describe(root)}";
                return null;
            }
            var list = new List<Capability>();
            var index = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object
                    || Text(item, "capability") is not { } name
                    || (Text(item, "capability_type") ?? Text(item, "type")) is not { } type)
                {
                    problem = $"item {index} is not {{\"capability\": string, \"capability_type\" or \"type\": string}}";
                    return null;
                }
                list.Add(new Capability(name, type));
                index++;
            }
            return list;
        }
    }

    private static string? Text(JsonElement item, string key) =>
        item.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
