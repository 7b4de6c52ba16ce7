using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Parsing;

/// <summary>Reads one entry of a blueprint's <c>images</c> list.</summary>
internal static partial class ImageEntry
{
    /// <summary>Longest capability accepted, the same limit a capability list has.</summary>
    public const int MaxCapabilityLength = 256;

    private static readonly string[] Keys = ["name", "engine", "parameters", "capabilities"];

    public static Image? Read(YamlSchemaCheck check, JsonArray images, int index)
    {
        var path = InputPath.Index("images", index);
        var map = check.Mapping(images, InputPath.Slot(index), path);
        if (map is null) return null;

        check.RejectUnknownKeys(map, path, Keys);
        var name = check.Require(map, path, "name") ? check.Text(map, "name", InputPath.Member(path, "name")) : null;
        var engine = check.Require(map, path, "engine") ? Engine(check, map, InputPath.Member(path, "engine")) : null;
        var parameters = map.ContainsKey("parameters") ? Parameters(check, map, InputPath.Member(path, "parameters")) : [];
        var capabilities = map.ContainsKey("capabilities") ? Capabilities(check, map, InputPath.Member(path, "capabilities")) : [];
        if (name is null || engine is null || parameters is null || capabilities is null) return null;
        return new Image { Name = name, Engine = engine, Parameters = parameters, Capabilities = capabilities };
    }

    /// <summary>The engine names a VAL type, and VAL types are lower case; "Docker" would never match a plugin.</summary>
    private static string? Engine(YamlSchemaCheck check, JsonObject map, string path)
    {
        var engine = check.Text(map, "engine", path);
        if (engine is null || EngineName().IsMatch(engine)) return engine;
        check.Report(path, $"{YamlSchemaCheck.Quote(engine)} is not an engine name: lower-case letters, digits, '.', '_' and '-', "
            + "starting with a letter or digit, at most 64 characters", check.Tree.PositionOf(map, "engine"));
        return null;
    }

    /// <summary>Parameters belong to the engine, so any content is accepted and kept as JSON.</summary>
    private static Dictionary<string, JsonElement>? Parameters(YamlSchemaCheck check, JsonObject map, string path)
    {
        var parameters = check.Mapping(map, "parameters", path);
        if (parameters is null) return null;
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters) result[key] = JsonSerializer.SerializeToElement(value);
        return result;
    }

    private static List<string>? Capabilities(YamlSchemaCheck check, JsonObject map, string path)
    {
        var list = check.List(map, "capabilities", path);
        if (list is null) return null;
        if (list.Count == 0)
        {
            check.Report(path, "must list at least one capability; leave the key out for none", check.Tree.PositionOf(list));
            return null;
        }
        var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var capabilities = new List<string>();
        for (var i = 0; i < list.Count; i++)
        {
            var itemPath = InputPath.Index(path, i);
            var capability = check.Text(list, InputPath.Slot(i), itemPath, MaxCapabilityLength);
            if (capability is null) continue;
            if (firstIndex.TryGetValue(capability, out var first))
            {
                check.Report(itemPath, $"duplicate capability {YamlSchemaCheck.Quote(capability)}, already at index {first}", check.Tree.PositionOf(list, InputPath.Slot(i)));
                continue;
            }
            firstIndex[capability] = i;
            capabilities.Add(capability);
        }
        return capabilities.Count == list.Count ? capabilities : null;
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_.-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex EngineName();
}
