using System.Text;
using System.Text.Json;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// <c>command</c>: a list of strings, or a string split into words the way a POSIX shell would (docker-py uses
/// <c>shlex.split</c>): quotes group, a backslash escapes. Nothing else of a shell applies: no variables, no globs.
/// Replaces the image's CMD; its ENTRYPOINT stays.
/// </summary>
internal static class CommandParameter
{
    public static IList<string>? Read(JsonElement value, List<string> problems)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var words = SplitWords(value.GetString()!, out var error);
                if (error is not null) problems.Add($"parameters.command: {error}");
                else if (words.Count == 0) problems.Add("parameters.command: expected a command, got an empty string");
                else return words;
                return null;
            case JsonValueKind.Array:
                var args = new List<string>();
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (Scalar(item) is { } text) args.Add(text);
                    else problems.Add($"parameters.command[{index}]: expected a string, got {Got(item)}");
                    index++;
                }
                if (index > 0) return args;
                problems.Add("parameters.command: expected a command, got an empty list");
                return null;
            default:
                problems.Add($"parameters.command: expected a string or a list of strings, got {ParameterKind.Of(value)}");
                return null;
        }
    }

    /// <summary>POSIX shell word splitting without expansions; <paramref name="error"/> names an unterminated quote or escape.</summary>
    internal static List<string> SplitWords(string text, out string? error)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        error = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    if (inWord) words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                    break;
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0) return Fail("a single quote is not closed", out error);
                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    inWord = true;
                    break;
                case '"':
                    if (!ReadDoubleQuoted(text, ref i, word)) return Fail("a double quote is not closed", out error);
                    inWord = true;
                    break;
                case '\\':
                    if (i + 1 == text.Length) return Fail("the command ends with a lone backslash", out error);
                    i++;
                    // Backslash-newline joins lines; any other escaped character is itself.
                    if (text[i] != '\n') word.Append(text[i]);
                    inWord = true;
                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>From the opening quote at <paramref name="i"/> to its closing one; inside, a backslash escapes only <c>$ ` " \</c>.</summary>
    private static bool ReadDoubleQuoted(string text, ref int i, StringBuilder word)
    {
        for (i++; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"') return true;
            if (c == '\\' && i + 1 < text.Length && text[i + 1] is '$' or '`' or '"' or '\\' or '\n')
            {
                i++;
                if (text[i] != '\n') word.Append(text[i]);
                continue;
            }
            word.Append(c);
        }
        return false;
    }

    private static List<string> Fail(string why, out string? error)
    {
        error = why;
        return [];
    }
}
