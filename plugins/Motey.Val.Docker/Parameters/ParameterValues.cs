using System.Globalization;
using System.Text.Json;
using Motey.Abstractions;

namespace Motey.Val.Docker.Parameters;

/// <summary>Reading blueprint values the way YAML authors write them, and wording what was found instead.</summary>
internal static class ParameterValues
{
    /// <summary>Strings as they are; numbers and booleans as their text (YAML turns <c>PORT: 8080</c> into a number).</summary>
    public static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    /// <summary>What a value is, for "got ...": numbers and strings shown as written, anything else by its kind.</summary>
    public static string Got(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.String => $"'{value.GetString()}'",
        _ => ParameterKind.Of(value),
    };

    /// <summary>A whole number within the range, written as a number or as a string of digits.</summary>
    public static bool TryWholeNumber(JsonElement value, long minimum, long maximum, out long number)
    {
        number = 0;
        var ok = value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt64(out number),
            JsonValueKind.String => long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
        return ok && number >= minimum && number <= maximum;
    }

    /// <summary>A boolean, or null after adding a problem.</summary>
    public static bool? Boolean(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        problems.Add($"{where}: expected a boolean, got {Got(value)}");
        return null;
    }
}
