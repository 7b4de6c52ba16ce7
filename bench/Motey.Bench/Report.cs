using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Motey.Bench;

/// <summary>A row of a result table: the agent's figure, the baseline's, and their ratio (median over median).</summary>
internal sealed record Row(string Case, string Measure, Series Agent, Series? Baseline)
{
    public string Ratio =>
        Baseline is null || Agent.IsEmpty || Baseline.IsEmpty || Baseline.Median == 0
            ? "–"
            : "×" + (Agent.Median / Baseline.Median).ToString(Agent.Median / Baseline.Median >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
}

/// <summary>One benchmark's section of the results: what was compared with what, its table, and notes.</summary>
internal sealed class Section(string title, string agentColumn, string baselineColumn)
{
    public string Title => title;
    public List<string> Intro { get; } = [];
    public List<Row> Rows { get; } = [];
    public List<string> Notes { get; } = [];

    public Row Add(string @case, string measure, Series agent, Series? baseline = null)
    {
        var row = new Row(@case, measure, agent, baseline);
        Rows.Add(row);
        return row;
    }

    public void Write(StringBuilder md)
    {
        md.AppendLine($"## {title}").AppendLine();
        foreach (var line in Intro) md.AppendLine(line);
        if (Intro.Count > 0) md.AppendLine();
        md.AppendLine($"| case | measure | {agentColumn} | {baselineColumn} | ratio |");
        md.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var row in Rows)
            md.AppendLine($"| {row.Case} | {row.Measure} ({row.Agent.Unit}) | {row.Agent.Cell()} | {row.Baseline?.Cell() ?? "–"} | {row.Ratio} |");
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

    public Section Section(string title, string agentColumn, string baselineColumn)
    {
        var section = new Section(title, agentColumn, baselineColumn);
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
                agent = r.Agent.Values, baseline = r.Baseline?.Values,
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
