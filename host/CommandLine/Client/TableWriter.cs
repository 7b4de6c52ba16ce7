namespace Motey.Host.CommandLine.Client;

/// <summary>
/// Plain aligned columns, as `docker ps` and `kubectl get` print them: a header line in capitals, then one line per row,
/// columns separated by at least three spaces, no box drawing and no colour, so the output pipes into grep and awk.
/// </summary>
internal sealed class TableWriter(params string[] headers)
{
    private const string Gap = "   ";
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    /// <summary>Adds a row; null cells print as empty, line breaks and tabs inside a cell as spaces.</summary>
    public TableWriter Add(params string?[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"a row of {cells.Length} cells in a table of {headers.Length} columns");
        _rows.Add(cells.Select(Clean).ToArray());
        return this;
    }

    public void Write(TextWriter output)
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        WriteLine(output, headers, widths);
        foreach (var row in _rows) WriteLine(output, row, widths);
    }

    private static void WriteLine(TextWriter output, string[] cells, int[] widths)
    {
        // The last column is not padded: no trailing spaces.
        var line = string.Join(Gap, cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i])));
        output.WriteLine(line.TrimEnd());
    }

    private static string Clean(string? cell) => (cell ?? "").ReplaceLineEndings(" ").Replace('\t', ' ');
}
