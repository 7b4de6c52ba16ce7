using System.Text.Json.Nodes;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Parsing;

/// <summary>Reads the YAML blueprint of <c>POST /v1/service</c> (SPEC §3) safely, reporting every violation with its path.</summary>
public static class BlueprintParser
{
    /// <summary>Longest <c>service_name</c> accepted; it is shown in lists and stored.</summary>
    public const int MaxServiceNameLength = 256;

    private static readonly string[] Keys = ["service_name", "node_type", "images"];

    /// <summary>The blueprint in <paramref name="yaml"/>, or every error in it. Never throws on bad input.</summary>
    public static ParseResult<Blueprint> Parse(string yaml) => Parse(yaml, out _);

    /// <summary>
    /// As <see cref="Parse(string)"/>, with the top-level keys the blueprint carries besides service_name, node_type and
    /// images: accepted and ignored, as the original's schema allowed them (a typo of one of those three is an error).
    /// Keys inside an image stay strict.
    /// </summary>
    public static ParseResult<Blueprint> Parse(string yaml, out IReadOnlyList<IgnoredKey> ignored)
    {
        ignored = [];
        var read = SafeYamlReader.Read(yaml);
        if (!read.Ok) return ParseResult<Blueprint>.Failure(read.Errors);
        if (read.Value.IsEmpty) return ParseResult<Blueprint>.Failure(InputPath.YamlRoot, "the blueprint is empty");

        var check = new YamlSchemaCheck(read.Value);
        var extra = new List<IgnoredKey>();
        var blueprint = Read(check, read.Value.Root, extra);
        if (check.Errors.Count > 0 || blueprint is null) return ParseResult<Blueprint>.Failure(check.Errors);
        ignored = extra;
        return ParseResult<Blueprint>.Success(blueprint);
    }

    private static Blueprint? Read(YamlSchemaCheck check, JsonNode? root, List<IgnoredKey> ignored)
    {
        if (root is not JsonObject map)
        {
            check.Report("", $"expected a mapping with service_name and images, found {YamlSchemaCheck.Describe(root)}", check.Tree.PositionOf(root));
            return null;
        }
        check.IgnoreUnknownKeys(map, "", Keys, ignored);
        var serviceName = check.Require(map, "", "service_name") ? check.Text(map, "service_name", "service_name", MaxServiceNameLength) : null;
        var nodeType = map.ContainsKey("node_type") ? check.String(map, "node_type", "node_type") : null;
        var images = check.Require(map, "", "images") ? ReadImages(check, map) : null;
        return serviceName is null || images is null ? null : new Blueprint(serviceName, nodeType, images);
    }

    private static List<Image>? ReadImages(YamlSchemaCheck check, JsonObject root)
    {
        var list = check.List(root, "images", "images");
        if (list is null) return null;
        if (list.Count == 0)
        {
            check.Report("images", "must list at least one image", check.Tree.PositionOf(list));
            return null;
        }
        var images = new List<Image>();
        for (var i = 0; i < list.Count; i++)
        {
            if (ImageEntry.Read(check, list, i) is { } image) images.Add(image);
        }
        ReportDuplicates(check, list);
        return images.Count == list.Count ? images : null;
    }

    /// <summary>
    /// Two identical entries would deploy the same thing twice under one service; the original's schema
    /// (uniqueItems) refused them too. Entries are grouped by a hash first, so a long list is not compared pair by pair.
    /// </summary>
    private static void ReportDuplicates(YamlSchemaCheck check, JsonArray list)
    {
        var groups = new Dictionary<int, List<int>>();
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject entry) continue;
            var hash = JsonNodeHash.Of(entry);
            if (!groups.TryGetValue(hash, out var earlier)) groups[hash] = earlier = [];
            var twin = earlier.FirstOrDefault(j => JsonNode.DeepEquals(list[j], entry), -1);
            if (twin >= 0)
                check.Report(InputPath.Index("images", i), $"is the same image as images[{twin}]; list each image once", check.Tree.PositionOf(entry));
            else
                earlier.Add(i);
        }
    }
}
