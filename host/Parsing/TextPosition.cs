namespace Motey.Host.Parsing;

/// <summary>A 1-based line and column, the way editors count them.</summary>
internal readonly record struct TextPosition(long Line, long Column)
{
    public override string ToString() => $"line {Line}, column {Column}";

    /// <summary>Appended to a message: <c> (line L, column C)</c>.</summary>
    public string Suffix => $" (line {Line}, column {Column})";

    /// <summary>Position of <paramref name="index"/> in <paramref name="text"/>; a CR LF pair is one line break.</summary>
    public static TextPosition Of(string text, int index)
    {
        long line = 1, column = 1;
        for (var i = 0; i < index && i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n' || (c == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
            {
                line++;
                column = 1;
            }
            else if (c != '\r')
            {
                column++;
            }
        }
        return new TextPosition(line, column);
    }
}
