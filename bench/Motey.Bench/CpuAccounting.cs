using System.Globalization;

namespace Motey.Bench;

/// <summary>
/// How busy the machine was with other work while a benchmark ran: all CPU time the kernel counted (/proc/stat)
/// minus the time of this driver and its reaped children (/proc/self/stat utime, stime, cutime, cstime), which
/// include the agents, the bare app, the fake peers and wrk. The Docker engine's work counts as other.
/// </summary>
internal readonly record struct CpuSnapshot(long Busy, long Total, long Own)
{
    public static CpuSnapshot Take()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already inside user)
        var idle = cpu[3] + cpu[4];
        var total = cpu.Take(8).Sum();
        var self = File.ReadAllText("/proc/self/stat");
        var fields = self[(self.LastIndexOf(')') + 2)..].Split(' ');
        var own = Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
        return new CpuSnapshot(total - idle, total, own);
    }

    /// <summary>"others used X % of the cores' time, the machine was Y % busy" between two snapshots.</summary>
    public static string Describe(CpuSnapshot before, CpuSnapshot after)
    {
        var total = Math.Max(1, after.Total - before.Total);
        var busy = after.Busy - before.Busy;
        var others = Math.Max(0, busy - (after.Own - before.Own));
        return $"the machine was {100.0 * busy / total:0}% busy (all cores); processes outside this benchmark (other sessions, dockerd) used {100.0 * others / total:0}% of all cores' time";
    }
}
