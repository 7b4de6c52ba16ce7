using System.Globalization;
using System.Text.Json.Serialization;
using Motey.Host.Configuration;

namespace Motey.Host.Health;

internal sealed record MemoryStatus(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("available")] long Available,
    [property: JsonPropertyName("percent")] double Percent,
    [property: JsonPropertyName("used")] long Used,
    [property: JsonPropertyName("free")] long Free);

internal sealed record DiskStatus(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("used")] long Used,
    [property: JsonPropertyName("free")] long Free,
    [property: JsonPropertyName("percent")] double Percent);

/// <summary>The body of GET /v1/nodestatus, shaped like the original's psutil figures.</summary>
internal sealed record NodeStatus(
    [property: JsonPropertyName("cpu")] double Cpu,
    [property: JsonPropertyName("memory")] MemoryStatus Memory,
    [property: JsonPropertyName("disk")] DiskStatus Disk);

/// <summary>
/// Samples CPU use from /proc/stat once a second in the background, so GET /v1/nodestatus answers at once
/// (the original blocked each request for 5 s to measure). Memory and disk are read on demand: cheap.
/// </summary>
internal sealed class NodeStatusSampler(MoteySettings settings) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private double _cpuPercent;

    public NodeStatus Current() => new(Math.Round(Volatile.Read(ref _cpuPercent), 1), ReadMemory(), ReadDisk());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var previous = ReadCpuTicks();
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = ReadCpuTicks();
            var total = now.Total - previous.Total;
            if (total > 0) Volatile.Write(ref _cpuPercent, 100.0 * (total - (now.Idle - previous.Idle)) / total);
            previous = now;
        }
    }

    private static (long Total, long Idle) ReadCpuTicks()
    {
        // First line: "cpu user nice system idle iowait irq softirq steal ..."; idle time is idle + iowait.
        var line = File.ReadLines("/proc/stat").First();
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (fields.Take(8).Sum(), fields[3] + fields[4]);
    }

    private static MemoryStatus ReadMemory()
    {
        var values = File.ReadLines("/proc/meminfo")
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => long.Parse(p[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024);
        var total = values["MemTotal"];
        var free = values["MemFree"];
        var available = values.GetValueOrDefault("MemAvailable", free);
        var used = total - free - values.GetValueOrDefault("Buffers") - values.GetValueOrDefault("Cached");
        return new MemoryStatus(total, available, Percent(total - available, total), Math.Max(used, 0), free);
    }

    private DiskStatus ReadDisk()
    {
        var drive = new DriveInfo(Path.GetDirectoryName(settings.Database.Path)!);
        var total = drive.TotalSize;
        var free = drive.AvailableFreeSpace;
        var used = total - drive.TotalFreeSpace;
        return new DiskStatus(total, used, free, Percent(used, used + free));
    }

    private static double Percent(long part, long whole) => whole <= 0 ? 0 : Math.Round(100.0 * part / whole, 1);
}
