using System.Globalization;

namespace Motey.Val.Process;

/// <summary>The fields of /proc/&lt;pid&gt;/stat this VAL needs (proc(5) field numbers in the comments).</summary>
/// <param name="State">Field 3: R, S, D, Z, T, t, X, I, ...</param>
/// <param name="ProcessGroup">Field 5.</param>
/// <param name="UserTicks">Field 14, utime.</param>
/// <param name="SystemTicks">Field 15, stime.</param>
/// <param name="StartTime">Field 22, clock ticks after boot.</param>
/// <param name="ParentPid">Field 4, ppid.</param>
internal readonly record struct ProcStat(char State, int ProcessGroup, ulong UserTicks, ulong SystemTicks, ulong StartTime, int ParentPid);

/// <summary>Reads the Linux /proc file system. A process that vanishes mid-read counts as gone.</summary>
internal static class ProcFs
{
    private static readonly Lazy<long> s_ticksPerSecond = new(NativeMethods.TicksPerSecond);
    private static readonly Lazy<DateTimeOffset> s_bootTime = new(ReadBootTime);
    private static readonly Lazy<string?> s_bootId = new(() => TryReadText("/proc/sys/kernel/random/boot_id")?.Trim());

    public static long TicksPerSecond => s_ticksPerSecond.Value;

    /// <summary>When the machine booted (btime in /proc/stat).</summary>
    public static DateTimeOffset BootTime => s_bootTime.Value;

    /// <summary>Changes at every boot; pids and start times are only comparable within one boot.</summary>
    public static string? BootId => s_bootId.Value;

    public static bool IsAvailable => File.Exists("/proc/self/stat");

    public static ProcStat? ReadStat(int pid)
    {
        var text = TryReadText($"/proc/{pid}/stat");
        if (text is null) return null;
        // Field 2 (comm) is in parentheses and may itself hold spaces and ')', so split after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0) return null;
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20) return null;
        // fields[0] is field 3 of proc(5).
        return new ProcStat(
            fields[0][0],
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            ulong.Parse(fields[11], CultureInfo.InvariantCulture),
            ulong.Parse(fields[12], CultureInfo.InvariantCulture),
            ulong.Parse(fields[19], CultureInfo.InvariantCulture),
            int.Parse(fields[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Resident memory (VmRSS) in bytes; 0 when the process has none (a zombie) or is gone.</summary>
    public static long ReadResidentBytes(int pid)
    {
        var text = TryReadText($"/proc/{pid}/status");
        if (text is null) return 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith("VmRSS:")) continue;
            var value = line["VmRSS:".Length..].Trim();
            var space = value.IndexOf(' ');
            var number = space < 0 ? value : value[..space];
            return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : 0;
        }
        return 0;
    }

    /// <summary>The argument vector the process was executed with; empty when gone.</summary>
    public static IReadOnlyList<string> ReadCommandLine(int pid)
    {
        var text = TryReadText($"/proc/{pid}/cmdline");
        return text is null ? [] : text.TrimEnd('\0').Split('\0');
    }

    /// <summary>Seconds since boot.</summary>
    public static double ReadUptimeSeconds()
    {
        var text = TryReadText("/proc/uptime") ?? throw new InvalidOperationException("/proc/uptime is not readable");
        return double.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
    }

    /// <summary>When a process started, from its start time in ticks after boot.</summary>
    public static DateTimeOffset StartedAt(ulong startTimeTicks) =>
        BootTime + TimeSpan.FromSeconds((double)startTimeTicks / TicksPerSecond);

    private static DateTimeOffset ReadBootTime()
    {
        var text = TryReadText("/proc/stat") ?? throw new InvalidOperationException("/proc/stat is not readable");
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("btime "))
            {
                return DateTimeOffset.FromUnixTimeSeconds(long.Parse(line[6..].Trim(), CultureInfo.InvariantCulture));
            }
        }
        throw new InvalidOperationException("/proc/stat has no btime line");
    }

    private static string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // FileNotFound/DirectoryNotFound are IOExceptions too: the process is gone or not ours to see.
            return null;
        }
    }
}
