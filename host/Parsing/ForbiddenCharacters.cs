namespace Motey.Host.Parsing;

/// <summary>
/// Finds characters an input must not hold before a parser sees them: YamlDotNet reads a NUL as the end
/// of the input and lets other control characters through, and System.Text.Json throws on a lone surrogate.
/// </summary>
internal static class ForbiddenCharacters
{
    /// <summary>The first character outside YAML 1.2's printable set (spec 5.1), as an error; null when there is none.</summary>
    public static InputError? FindInYaml(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++; // a pair encodes U+10000..U+10FFFF, all printable
                continue;
            }
            if (!IsYamlPrintable(c)) return ErrorAt(text, i, $"character {Describe(c)} is not allowed in YAML");
        }
        return null;
    }

    /// <summary>The first unpaired surrogate, as an error; JSON text cannot be transcoded to UTF-8 with one.</summary>
    public static InputError? FindUnpairedSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(c)) return ErrorAt(text, i, $"character {Describe(c)} is an unpaired surrogate, not text");
        }
        return null;
    }

    private static bool IsYamlPrintable(char c) =>
        c is '\t' or '\n' or '\r' or '\u0085'
        || c is >= '\u0020' and <= '\u007E'
        || c is >= '\u00A0' and <= '\uD7FF'
        || c is >= '\uE000' and <= '\uFFFD';

    private static string Describe(char c) => $"U+{(int)c:X4}";

    private static InputError ErrorAt(string text, int index, string message)
    {
        var at = TextPosition.Of(text, index);
        return InputError.At(at.ToString(), message, at);
    }
}
