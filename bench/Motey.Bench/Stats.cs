using System.Globalization;

namespace Motey.Bench;

/// <summary>One figure measured once per run: median and range over the runs.</summary>
internal sealed class Series(string unit)
{
    public string Unit => unit;
    public List<double> Values { get; } = [];
    public bool IsEmpty => Values.Count == 0;

    public void Add(double value) => Values.Add(value);

    public double Median
    {
        get
        {
            if (IsEmpty) return double.NaN;
            var sorted = Values.Order().ToList();
            var middle = sorted.Count / 2;
            return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }

    public double Min => IsEmpty ? double.NaN : Values.Min();
    public double Max => IsEmpty ? double.NaN : Values.Max();

    /// <summary><c>median (min–max)</c> with the unit's precision; "–" when nothing was measured.</summary>
    public string Cell() => IsEmpty ? "–" : $"{Format(Median)} ({Format(Min)}–{Format(Max)})";

    public string Format(double value) => Number(value, unit);

    public static string Number(double value, string unit)
    {
        if (double.IsNaN(value)) return "–";
        var magnitude = Math.Abs(value);
        var pattern = unit switch
        {
            "req/s" or "events/s" or "changes/s" or "requests" or "count" => "#,0",
            "MiB" => "0.0",
            _ => magnitude >= 100 ? "0" : magnitude >= 10 ? "0.0" : magnitude >= 1 ? "0.00" : "0.000",
        };
        return value.ToString(pattern, CultureInfo.InvariantCulture);
    }
}
