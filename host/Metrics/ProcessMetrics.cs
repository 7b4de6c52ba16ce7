using System.Diagnostics;
using Prometheus;

namespace Motey.Host.Metrics;

/// <summary>
/// The process series under the names Prometheus's own clients use (process_cpu_seconds_total,
/// process_resident_memory_bytes, process_open_fds, ...), read from the process at each scrape.
/// </summary>
internal static class ProcessMetrics
{
    public static void Register(CollectorRegistry registry)
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(registry);
        var cpu = metrics.CreateCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
        var resident = metrics.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var virtualBytes = metrics.CreateGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
        var heap = metrics.CreateGauge("dotnet_total_memory_bytes", "Bytes the .NET garbage collector holds as allocated.");
        var fds = metrics.CreateGauge("process_open_fds", "Number of open file descriptors.");
        var maxFds = metrics.CreateGauge("process_max_fds", "Maximum number of open file descriptors.");
        var threads = metrics.CreateGauge("process_threads", "Threads of the process.");
        var start = metrics.CreateGauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
        var gate = new Lock();
        using (var self = Process.GetCurrentProcess())
            start.Set(new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        maxFds.Set(MaxOpenFiles());
        registry.AddBeforeCollectCallback(() =>
        {
            lock (gate)
            {
                using var process = Process.GetCurrentProcess();
                cpu.IncTo(process.TotalProcessorTime.TotalSeconds);
                resident.Set(process.WorkingSet64);  // on Linux: VmRSS
                virtualBytes.Set(process.VirtualMemorySize64);
                threads.Set(process.Threads.Count);
                heap.Set(GC.GetTotalMemory(forceFullCollection: false));
                fds.Set(OpenFiles());
            }
        });
    }

    private static int OpenFiles()
    {
        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static double MaxOpenFiles()
    {
        try
        {
            // "Max open files            1048576              1048576              files"
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var soft = line?[26..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return double.TryParse(soft, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : double.NaN;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }
}
