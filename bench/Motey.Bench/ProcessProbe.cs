using System.Globalization;

namespace Motey.Bench;

/// <summary>What one process uses, read from /proc: CPU time, resident and private memory, descriptors.</summary>
internal static class ProcessProbe
{
    /// <summary>Clock ticks per second of /proc/PID/stat's utime and stime: 100 on Linux (USER_HZ).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User + system CPU time of the process so far, in ms (10 ms resolution).</summary>
    public static double CpuMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // after the command: state(0) ppid ... utime is field 14 of the whole line, index 11 here; stime 12
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 1000 / TicksPerSecond;
    }

    /// <summary>Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, in MiB: the memory only this process holds.</summary>
    public static double PrivateMiB(int pid)
    {
        long kb = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (!line.StartsWith("Private_Clean:", StringComparison.Ordinal) && !line.StartsWith("Private_Dirty:", StringComparison.Ordinal)) continue;
            kb += long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return kb / 1024.0;
    }

    /// <summary>Open descriptors (entries of /proc/PID/fd).</summary>
    public static int Descriptors(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    /// <summary>
    /// The TCP connections to the simulated peers' ZeroMQ ports (5091–5094 on 127.76.x or 127.78.x with a third octet of
    /// 10 or more) in /proc/net/tcp, in any state but LISTEN, TIME_WAIT included, each as "client-end server-end" (the
    /// same text whichever side the entry is from). A connection opened and closed between two snapshots is still in
    /// TIME_WAIT for 60 s on the side that closed it, so the connections opened in between are the entries of the second
    /// snapshot that the first lacks: exact for intervals under 60 s (a longer loop undercounts).
    /// </summary>
    public static HashSet<string> PeerConnections()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 4 || parts[3] == "0A") continue;  // 0A: LISTEN
            var local = parts[1];
            var remote = parts[2];
            if (IsPeerReplier(remote)) set.Add($"{local} {remote}");
            else if (IsPeerReplier(local)) set.Add($"{remote} {local}");
        }
        return set;
    }

    private static bool IsPeerReplier(string endpoint)
    {
        var halves = endpoint.Split(':');
        var port = int.Parse(halves[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (port is < FakePeers.CapabilitiesPort or > FakePeers.TerminatePort) return false;
        // little-endian hex: the first octet is the lowest byte
        var ip = uint.Parse(halves[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var first = ip & 0xFF;
        var second = (ip >> 8) & 0xFF;
        var third = (ip >> 16) & 0xFF;
        return first == 127 && second is (76 or 78) && third >= 10;
    }
}
