using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Motey.Bench;

/// <summary>
/// A row of a result table: the agent's figure, the baseline's, and their ratio (median over median); in a section with
/// a middle column (the footprint's floor app) also the middle figure and its ratios to both.
/// </summary>
internal sealed record Row(string Case, string Measure, Series Agent, Series? Baseline, Series? Middle = null)
{
    public string Ratio => Of(Agent, Baseline);

    /// <summary><paramref name="over"/>'s median divided by <paramref name="under"/>'s, as "×1.23"; "–" when either is missing.</summary>
    public static string Of(Series? over, Series? under) =>
        over is null || under is null || over.IsEmpty || under.IsEmpty || under.Median == 0
            ? "–"
            : "×" + (over.Median / under.Median).ToString(over.Median / under.Median >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
}

/// <summary>
/// One benchmark's section of the results: what was compared with what, its table, and notes. A section with a middle
/// column shows a third program between the agent and the baseline (the footprint's floor app) and the three ratios.
/// </summary>
internal sealed class Section(string title, string agentColumn, string baselineColumn, string? middleColumn = null)
{
    public string Title => title;
    public List<string> Intro { get; } = [];
    public List<Row> Rows { get; } = [];
    public List<string> Notes { get; } = [];

    public Row Add(string @case, string measure, Series agent, Series? baseline = null, Series? middle = null)
    {
        var row = new Row(@case, measure, agent, baseline, middle);
        Rows.Add(row);
        return row;
    }

    public void Write(StringBuilder md)
    {
        md.AppendLine($"## {title}").AppendLine();
        foreach (var line in Intro) md.AppendLine(line);
        if (Intro.Count > 0) md.AppendLine();
        if (middleColumn is null)
        {
            md.AppendLine($"| case | measure | {agentColumn} | {baselineColumn} | ratio |");
            md.AppendLine("| --- | --- | --- | --- | --- |");
            foreach (var row in Rows)
                md.AppendLine($"| {row.Case} | {row.Measure} ({row.Agent.Unit}) | {row.Agent.Cell()} | {row.Baseline?.Cell() ?? "–"} | {row.Ratio} |");
        }
        else
        {
            md.AppendLine($"| case | measure | {agentColumn} | {middleColumn} | {baselineColumn} | agent ÷ {middleColumn} | {middleColumn} ÷ {baselineColumn} | agent ÷ {baselineColumn} |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var row in Rows)
                md.AppendLine($"| {row.Case} | {row.Measure} ({row.Agent.Unit}) | {row.Agent.Cell()} | {row.Middle?.Cell() ?? "–"} | {row.Baseline?.Cell() ?? "–"} "
                    + $"| {Row.Of(row.Agent, row.Middle)} | {Row.Of(row.Middle, row.Baseline)} | {row.Ratio} |");
        }
        md.AppendLine();
        foreach (var note in Notes) md.AppendLine($"- {note}");
        if (Notes.Count > 0) md.AppendLine();
    }
}

/// <summary>Everything one run of the benchmarks found, written as results.md (tables) and raw.json (every value).</summary>
internal sealed class Report
{
    public List<string> Header { get; } = [];
    public List<Section> Sections { get; } = [];

    public Section Section(string title, string agentColumn, string baselineColumn, string? middleColumn = null)
    {
        var section = new Section(title, agentColumn, baselineColumn, middleColumn);
        Sections.Add(section);
        return section;
    }

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        var md = new StringBuilder();
        md.AppendLine("# Motey.NET benchmark results").AppendLine();
        foreach (var line in Header) md.AppendLine(line);
        md.AppendLine();
        md.AppendLine("Each cell: median (min–max) over the runs. Ratio: the agent's median over the baseline's median.").AppendLine();
        foreach (var section in Sections) section.Write(md);
        File.WriteAllText(Path.Combine(folder, "results.md"), md.ToString());

        var raw = Sections.Select(s => new
        {
            section = s.Title,
            rows = s.Rows.Select(r => new
            {
                @case = r.Case, measure = r.Measure, unit = r.Agent.Unit,
                agent = r.Agent.Values, middle = r.Middle?.Values, baseline = r.Baseline?.Values,
            }),
            notes = s.Notes,
        });
        File.WriteAllText(Path.Combine(folder, "raw.json"),
            JsonSerializer.Serialize(raw, RawJson));
    }

    private static readonly JsonSerializerOptions RawJson = new()
    {
        WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
