using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Motey.Host.Parsing;

/// <summary>The kinds of scalar the YAML 1.2 core schema knows.</summary>
internal enum ScalarKind { Null, Bool, Int, Float, String }

/// <summary>A scalar resolved by the core schema: its kind, its JSON value, or why it has none.</summary>
internal readonly record struct ResolvedScalar(ScalarKind Kind, JsonNode? Value, string? Error);

/// <summary>
/// Types plain scalars by the YAML 1.2 core schema (spec 10.3), not YAML 1.1: <c>yes</c>, <c>on</c> and
/// <c>0755</c> stay what 1.2 says (a string, a string, the integer 755). <c>.inf</c> and <c>.nan</c> are
/// refused rather than kept as text, because JSON cannot hold them and silently changing a number's
/// type would surprise more than an error that says "quote it".
/// </summary>
internal static partial class YamlCoreSchema
{
    public static ResolvedScalar Resolve(string text)
    {
        if (text is "" or "~" or "null" or "Null" or "NULL") return new(ScalarKind.Null, null, null);
        if (text is "true" or "True" or "TRUE") return new(ScalarKind.Bool, JsonValue.Create(true), null);
        if (text is "false" or "False" or "FALSE") return new(ScalarKind.Bool, JsonValue.Create(false), null);
        if (DecimalInt().IsMatch(text)) return DecimalInteger(text);
        if (text.StartsWith("0o", StringComparison.Ordinal) && OctalDigits().IsMatch(text.AsSpan(2))) return RadixInteger(text, 8);
        if (text.StartsWith("0x", StringComparison.Ordinal) && HexDigits().IsMatch(text.AsSpan(2))) return RadixInteger(text, 16);
        if (Float().IsMatch(text)) return FloatNumber(text);
        if (Infinity().IsMatch(text) || text is ".nan" or ".NaN" or ".NAN")
            return new(ScalarKind.Float, null, $"'{text}' is a number JSON cannot hold; quote it if it is meant as text");
        return new(ScalarKind.String, JsonValue.Create(text), null);
    }

    private static ResolvedScalar DecimalInteger(string text)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            return new(ScalarKind.Int, JsonValue.Create(value), null);
        // Beyond 64 bits: keep every digit as a JSON number (sign and leading zeros dropped, as JSON wants).
        var negative = text[0] == '-';
        var digits = text.TrimStart('+', '-').TrimStart('0');
        return new(ScalarKind.Int, JsonNode.Parse(negative ? "-" + digits : digits), null);
    }

    private static ResolvedScalar RadixInteger(string text, int radix)
    {
        ulong value = 0;
        foreach (var c in text.AsSpan(2))
        {
            var digit = (ulong)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            if (value > (ulong.MaxValue - digit) / (ulong)radix)
                return new(ScalarKind.Int, null, $"'{text}' does not fit in 64 bits");
            value = value * (ulong)radix + digit;
        }
        return new(ScalarKind.Int, value <= long.MaxValue ? JsonValue.Create((long)value) : JsonValue.Create(value), null);
    }

    private static ResolvedScalar FloatNumber(string text)
    {
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsFinite(value)
            ? new(ScalarKind.Float, JsonValue.Create(value), null)
            : new(ScalarKind.Float, null, $"'{text}' is too large for a number");
    }

    // [0-9], not \d: \d also matches digits of other scripts.
    [GeneratedRegex(@"^[-+]?[0-9]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalInt();

    [GeneratedRegex(@"^[0-7]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex OctalDigits();

    [GeneratedRegex(@"^[0-9a-fA-F]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex HexDigits();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Float();

    [GeneratedRegex(@"^[-+]?\.(inf|Inf|INF)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Infinity();
}
