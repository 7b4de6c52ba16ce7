using System.Globalization;
using System.Text.Json;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>Memory and CPU limits: <c>mem_limit</c>, <c>cpus</c>, <c>nano_cpus</c>, read as docker-py reads them.</summary>
internal static class ResourceParameters
{
    private const double NanosPerCpu = 1e9;

    // Generous upper bounds that keep the conversions inside a long: 1024 CPUs, 1 EiB of memory.
    private const double MaxCpus = 1024;
    private const long MaxBytes = 1L << 60;

    /// <summary><c>mem_limit</c>: bytes as a number, or a string such as <c>512m</c> (units b, k, m, g; an extra b as in <c>mb</c> is fine).</summary>
    public static long? MemLimit(JsonElement value, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var bytes) && bytes is > 0 and <= MaxBytes) return bytes;
        if (value.ValueKind == JsonValueKind.String && ParseBytes(value.GetString()!) is { } parsed) return parsed;
        problems.Add($"parameters.mem_limit: expected a number of bytes or a string such as 512m (units b, k, m, g), got {Got(value)}");
        return null;
    }

    /// <summary><c>cpus</c>: a number of CPUs, possibly fractional, as <c>docker run --cpus</c>; becomes NanoCPUs.</summary>
    public static long? Cpus(JsonElement value, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Number && value.GetDouble() is var cpus && cpus > 0 && cpus <= MaxCpus)
        {
            var nanos = (long)Math.Round(cpus * NanosPerCpu);
            if (nanos > 0) return nanos;
        }
        problems.Add($"parameters.cpus: expected a number of CPUs above 0 and up to {MaxCpus}, got {Got(value)}");
        return null;
    }

    /// <summary><c>nano_cpus</c>: CPUs in units of 10⁻⁹ CPU, as docker-py's <c>nano_cpus</c>.</summary>
    public static long? NanoCpus(JsonElement value, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var nanos) && nanos > 0 && nanos <= MaxCpus * NanosPerCpu) return nanos;
        problems.Add($"parameters.nano_cpus: expected a whole number above 0 (1000000000 = one CPU), got {Got(value)}");
        return null;
    }

    /// <summary><c>1024</c>, <c>100k</c>, <c>512m</c>, <c>1.5g</c>, <c>2GB</c> → bytes; null when not such a size or not above 0.</summary>
    internal static long? ParseBytes(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        // docker-py accepts "mb" for "m" and so on.
        if (s.Length >= 2 && s[^1] == 'b' && char.IsLetter(s[^2])) s = s[..^1];
        long unit = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            unit = s[^1] switch { 'b' => 1, 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 0 };
            s = s[..^1];
        }
        if (unit == 0 || !double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)) return null;
        var bytes = amount * unit;
        return bytes is >= 1 and <= MaxBytes ? (long)bytes : null;
    }
}
