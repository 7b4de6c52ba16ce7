using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Motey.Host.Parsing;

/// <summary>
/// A hash that agrees with <see cref="JsonNode.DeepEquals"/>: member order is ignored and numbers hash by
/// value (1 and 1.0 are equal there). Lets duplicate detection compare only entries that may be equal.
/// </summary>
internal static class JsonNodeHash
{
    public static int Of(JsonNode? node) => node switch
    {
        null => 0,
        // A sum does not depend on the order of the members.
        JsonObject map => map.Aggregate(17, (hash, member) => unchecked(hash + HashCode.Combine(member.Key, Of(member.Value)))),
        JsonArray list => list.Aggregate(19, (hash, item) => HashCode.Combine(hash, Of(item))),
        _ => node.GetValueKind() switch
        {
            JsonValueKind.Number => double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture).GetHashCode(),
            JsonValueKind.String => node.GetValue<string>().GetHashCode(StringComparison.Ordinal),
            var kind => kind.GetHashCode(),
        },
    };
}
