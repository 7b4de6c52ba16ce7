using System.Text;
using System.Text.Json;

namespace Motey.Host.Parsing;

/// <summary>Turns a <see cref="JsonException"/> into an error a human can find: 1-based line and column in characters.</summary>
internal static class JsonSyntax
{
    public static InputError Error(string json, JsonException ex)
    {
        // The reader counts from 0 and in UTF-8 bytes; editors count from 1 and in characters.
        var line = ex.LineNumber ?? 0;
        var bytes = ex.BytePositionInLine ?? 0;
        var column = CharColumn(LineText(json, line), bytes) + 1;
        var at = new TextPosition(line + 1, column);
        return InputError.At(at.ToString(), StripPosition(ex.Message), at);
    }

    private static string LineText(string json, long line)
    {
        var start = 0;
        for (long i = 0; i < line && start >= 0; i++)
        {
            var next = json.IndexOf('\n', start);
            start = next < 0 ? -1 : next + 1;
        }
        if (start < 0) return "";
        var end = json.IndexOf('\n', start);
        return end < 0 ? json[start..] : json[start..end];
    }

    private static long CharColumn(string line, long bytePosition)
    {
        var utf8 = Encoding.UTF8.GetBytes(line);
        return Encoding.UTF8.GetCharCount(utf8, 0, (int)Math.Min(bytePosition, utf8.Length));
    }

    // The message ends with the reader's own 0-based "LineNumber: 0 | BytePositionInLine: 7."; Where says it better.
    private static string StripPosition(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut < 0 ? message : message[..cut];
    }
}
