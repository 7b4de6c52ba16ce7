using Docker.DotNet.Models;

namespace Motey.Val.Docker;

/// <summary>Resource figures from one stats sample, computed as the <c>docker stats</c> command does.</summary>
internal static class ContainerUsage
{
    /// <summary>
    /// CPU in percent of one core over the interval between the sample and the one before it (100 = one core busy):
    /// the container's share of the host's CPU time, times the number of CPUs. 0 without an earlier sample.
    /// </summary>
    public static double CpuPercent(CPUStats? now, CPUStats? before)
    {
        // The engine leaves the earlier sample zero when it has none (a container's first, or a one-shot sample).
        if (now?.CPUUsage is null || before?.CPUUsage is null || before.SystemUsage == 0) return 0;
        // Counters only grow; a smaller one means the earlier sample is from another life of the container.
        if (now.CPUUsage.TotalUsage <= before.CPUUsage.TotalUsage || now.SystemUsage <= before.SystemUsage) return 0;
        double containerDelta = now.CPUUsage.TotalUsage - before.CPUUsage.TotalUsage;
        double systemDelta = now.SystemUsage - before.SystemUsage;
        var cpus = now.OnlineCPUs > 0 ? now.OnlineCPUs : (uint)(now.CPUUsage.PercpuUsage?.Count ?? 1);
        return containerDelta / systemDelta * cpus * 100.0;
    }

    /// <summary>Memory in use without the page cache the kernel can drop at once (inactive files), as <c>docker stats</c>.</summary>
    public static long MemoryBytes(MemoryStats? memory)
    {
        if (memory is null) return 0;
        var usage = memory.Usage;
        var stats = memory.Stats;
        // cgroup v1 names it total_inactive_file, v2 inactive_file.
        if (stats is not null
            && (stats.TryGetValue("total_inactive_file", out var inactive) || stats.TryGetValue("inactive_file", out inactive))
            && inactive < usage)
        {
            usage -= inactive;
        }
        return ToLong(usage);
    }

    /// <summary>Bytes received and sent, summed over the container's networks (none with network mode none or host).</summary>
    public static (long Rx, long Tx) NetworkBytes(IDictionary<string, NetworkStats>? networks)
    {
        ulong rx = 0, tx = 0;
        foreach (var network in networks?.Values ?? [])
        {
            rx += network.RxBytes;
            tx += network.TxBytes;
        }
        return (ToLong(rx), ToLong(tx));
    }

    private static long ToLong(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;
}
