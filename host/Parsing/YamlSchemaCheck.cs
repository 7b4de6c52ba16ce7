using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Motey.Host.Parsing;

/// <summary>
/// Checks a YAML tree against a schema and collects every violation with its path and position, so one
/// answer tells the user everything to fix, not just the first thing.
/// </summary>
internal sealed class YamlSchemaCheck(YamlTree tree)
{
    public List<InputError> Errors { get; } = [];

    public YamlTree Tree => tree;

    public void Report(string path, string message, TextPosition? at) =>
        Errors.Add(InputError.At(InputPath.Display(path), message + at?.Suffix, at));

    /// <summary>Reports each key not in <paramref name="allowed"/>; catches typos such as <c>imagse</c>.</summary>
    public void RejectUnknownKeys(JsonObject map, string path, IReadOnlyList<string> allowed)
    {
        foreach (var (key, _) in map)
        {
            if (!allowed.Contains(key))
                Report(InputPath.Member(path, key), $"unknown key {Quote(key)}; expected {string.Join(", ", allowed)}", tree.KeyPosition(map, key));
        }
    }

    /// <summary>
    /// Keys not in <paramref name="allowed"/> are accepted and added to <paramref name="ignored"/> with their line (the
    /// original's schema allowed more keys at the top), but a typo of an allowed key (<see cref="KeyNearMiss"/>) is reported.
    /// </summary>
    public void IgnoreUnknownKeys(JsonObject map, string path, IReadOnlyList<string> allowed, List<IgnoredKey> ignored)
    {
        foreach (var (key, _) in map)
        {
            if (allowed.Contains(key)) continue;
            var at = tree.KeyPosition(map, key);
            if (KeyNearMiss.Of(key, allowed) is { } meant)
                Report(InputPath.Member(path, key), $"unknown key {Quote(key)}; did you mean '{meant}'?", at);
            else
                ignored.Add(new IgnoredKey(key, at?.Line));
        }
    }

    /// <summary>True when <paramref name="key"/> is present; reports it missing otherwise.</summary>
    public bool Require(JsonObject map, string path, string key)
    {
        if (map.ContainsKey(key)) return true;
        Report(InputPath.Member(path, key), $"required key '{key}' is missing", tree.PositionOf(map));
        return false;
    }

    /// <summary>The node in <paramref name="slot"/> (a key, or an index of a list) if it is a mapping.</summary>
    public JsonObject? Mapping(JsonNode parent, string slot, string path) => Expect<JsonObject>(parent, slot, path, "a mapping");

    /// <summary>The node in <paramref name="slot"/> if it is a list.</summary>
    public JsonArray? List(JsonNode parent, string slot, string path) => Expect<JsonArray>(parent, slot, path, "a list");

    /// <summary>The node in <paramref name="slot"/> if it is a string.</summary>
    public string? String(JsonNode parent, string slot, string path)
    {
        var node = Get(parent, slot);
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var text = value.GetValue<string>();
            if (InputText.ControlCharacter(text) is not { } bad) return text;
            // Names end up in logs and tables: an escaped newline or ESC could forge lines there.
            Report(path, $"contains control character {bad}", tree.PositionOf(parent, slot));
            return null;
        }
        Report(path, $"expected a string, found {Describe(node)}", tree.PositionOf(parent, slot));
        return null;
    }

    /// <summary>A string that is not blank and not longer than <paramref name="maxLength"/>.</summary>
    public string? Text(JsonNode parent, string slot, string path, int maxLength = int.MaxValue)
    {
        var text = String(parent, slot, path);
        if (text is null) return null;
        if (string.IsNullOrWhiteSpace(text))
        {
            Report(path, "must not be empty", tree.PositionOf(parent, slot));
            return null;
        }
        if (text.Length > maxLength)
        {
            Report(path, $"is {text.Length} characters long; at most {maxLength} are allowed", tree.PositionOf(parent, slot));
            return null;
        }
        return text;
    }

    /// <summary>What a node is, the way YAML users call it: "a mapping", "a list", "a number", "null".</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "a mapping",
        JsonArray => "a list",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
    };

    /// <summary>Quotes user text in a message, cut short so a hostile key cannot flood the answer.</summary>
    public static string Quote(string text) => text.Length <= 64 ? $"'{text}'" : $"'{text[..61]}...'";

    private T? Expect<T>(JsonNode parent, string slot, string path, string expected) where T : JsonNode
    {
        var node = Get(parent, slot);
        if (node is T typed) return typed;
        Report(path, $"expected {expected}, found {Describe(node)}", tree.PositionOf(parent, slot));
        return null;
    }

    private static JsonNode? Get(JsonNode parent, string slot) => parent switch
    {
        JsonObject map => map[slot],
        JsonArray list => list[int.Parse(slot, CultureInfo.InvariantCulture)],
        _ => null,
    };
}
