using System.Text.Json;

namespace Motey.Abstractions;

/// <summary>Helps a VAL word its <see cref="IValPlugin.ValidateParameters"/> messages the way a blueprint author reads them.</summary>
public static class ParameterKind
{
    /// <summary>The kind of a parameter value in YAML words: object, list, string, number, boolean or null.</summary>
    public static string Of(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
