using System.Globalization;
using System.Text;

namespace Motey.Host.Tests.Observe;

/// <summary>One sample of the Prometheus text format: a name, its labels, its value.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Name, string Value)[] labels) => labels.All(l => Labels.TryGetValue(l.Name, out var v) && v == l.Value);
}

/// <summary>
/// A strict reader of the Prometheus text format 0.0.4: every line is a HELP, a TYPE or a sample; every sample belongs to
/// a family with a TYPE (histograms' _bucket, _sum and _count included); label values with their escapes. Throws naming the line.
/// </summary>
internal sealed class PrometheusText
{
    public Dictionary<string, string> Types { get; } = [];
    public Dictionary<string, string> Help { get; } = [];
    public List<Sample> Samples { get; } = [];

    public static PrometheusText Parse(string text)
    {
        var parsed = new PrometheusText();
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (line.Length == 0) continue;
            try
            {
                parsed.Read(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {number}: {e.Message}: {line}");
            }
        }
        return parsed;
    }

    public IEnumerable<Sample> Named(string name) => Samples.Where(s => s.Name == name);

    /// <summary>The value of the one sample named so with these labels (among others); 0 when there is none.</summary>
    public double Value(string name, params (string, string)[] labels) => Named(name).Where(s => s.Has(labels)).Sum(s => s.Value);

    private void Read(string line)
    {
        if (line.StartsWith("# HELP ", StringComparison.Ordinal))
        {
            var rest = line[7..];
            var space = rest.IndexOf(' ');
            Help[space < 0 ? rest : rest[..space]] = space < 0 ? "" : rest[(space + 1)..];
            return;
        }
        if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
        {
            var parts = line[7..].Split(' ');
            if (parts.Length != 2 || parts[1] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped")) throw new FormatException("bad TYPE");
            Types[parts[0]] = parts[1];
            return;
        }
        if (line.StartsWith('#')) return;
        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':')) i++;
        if (i == 0 || char.IsAsciiDigit(line[0])) throw new FormatException("no metric name");
        var name = line[..i];
        var labels = new Dictionary<string, string>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var start = i;
                while (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_') i++;
                var label = line[start..i];
                if (label.Length == 0 || line[i] != '=' || line[i + 1] != '"') throw new FormatException("bad label");
                i += 2;
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch { 'n' => '\n', '\\' => '\\', '"' => '"', _ => throw new FormatException("bad escape") });
                    }
                    else value.Append(line[i]);
                    i++;
                }
                i++;
                labels[label] = value.ToString();
                if (line[i] == ',') i++;
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ') throw new FormatException("no value");
        var fields = line[(i + 1)..].Split(' ');
        var number = fields[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        var family = Family(name);
        if (!Types.ContainsKey(family)) throw new FormatException($"sample of {name} before any TYPE of {family}");
        Samples.Add(new Sample(name, labels, number));
    }

    private string Family(string name)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
            if (name.EndsWith(suffix, StringComparison.Ordinal) && Types.TryGetValue(name[..^suffix.Length], out var type) && type is "histogram" or "summary")
                return name[..^suffix.Length];
        return name;
    }
}
