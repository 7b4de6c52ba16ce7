using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Motey.Host.Parsing;

/// <summary>
/// Decides what a YAML tag means. Only the core schema's tags are honoured, and only as types of plain
/// data; any other tag (<c>!!python/object</c>, <c>!local</c>, a <c>%TAG</c> URI) is an error, so a
/// blueprint can never ask for an object to be built — the original's remote code execution.
/// </summary>
internal static class YamlTags
{
    private const string CorePrefix = "tag:yaml.org,2002:";
    private const string Str = CorePrefix + "str";
    private const string Null = CorePrefix + "null";
    private const string Bool = CorePrefix + "bool";
    private const string Int = CorePrefix + "int";
    private const string Float = CorePrefix + "float";
    public const string Map = CorePrefix + "map";
    public const string Seq = CorePrefix + "seq";

    private const string Allowed = "only the core schema tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are";

    /// <summary>
    /// The value of a scalar: typed by the core schema when plain and untagged, text when quoted or tagged
    /// <c>!</c>, and checked against its tag when it has a core one (<c>!!int "12"</c> is 12, <c>!!int abc</c> an error).
    /// </summary>
    public static ResolvedScalar Resolve(Scalar scalar)
    {
        if (scalar.Tag.IsEmpty)
            return scalar.Style == ScalarStyle.Plain ? YamlCoreSchema.Resolve(scalar.Value) : Text(scalar.Value);
        if (scalar.Tag.IsNonSpecific || scalar.Tag.Value == Str) return Text(scalar.Value);

        ScalarKind? expected = scalar.Tag.Value switch
        {
            Null => ScalarKind.Null,
            Bool => ScalarKind.Bool,
            Int => ScalarKind.Int,
            Float => ScalarKind.Float,
            _ => null,
        };
        if (expected is null) return new(ScalarKind.String, null, NotAllowed(scalar.Tag));

        var resolved = YamlCoreSchema.Resolve(scalar.Value);
        if (resolved.Kind == expected || (expected == ScalarKind.Float && resolved.Kind == ScalarKind.Int)) return resolved;
        return new(expected.Value, null, $"'{scalar.Value}' is not a valid {Display(scalar.Tag)}");
    }

    /// <summary>Why a collection's tag is refused, or null when it is absent, <c>!</c> or the right core tag.</summary>
    public static string? CheckCollection(TagName tag, string coreTag)
    {
        if (tag.IsEmpty || tag.IsNonSpecific || tag.Value == coreTag) return null;
        return tag.Value is Map or Seq ? $"tag {Display(tag)} does not fit this {(coreTag == Map ? "mapping" : "list")}" : NotAllowed(tag);
    }

    /// <summary>Writes a core tag the short way users write it: <c>!!python/object</c>, not its URI.</summary>
    public static string Display(TagName tag) =>
        tag.Value.StartsWith(CorePrefix, StringComparison.Ordinal) ? "!!" + tag.Value[CorePrefix.Length..] : tag.Value;

    private static string NotAllowed(TagName tag) => $"tag {Display(tag)} is not allowed: {Allowed}";

    private static ResolvedScalar Text(string value) => new(ScalarKind.String, JsonValue.Create(value), null);
}
