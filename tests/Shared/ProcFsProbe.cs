namespace Motey.Tests.Shared;

/// <summary>
/// Looks at processes from outside, the way an operator would with ps: which pids there are, whether one lives, its
/// state, process group and session, command line, environment and working directory, read from Linux's /proc.
/// </summary>
internal static class ProcFsProbe
{
    /// <summary>The pids in /proc now (some may be gone by the time they are looked at).</summary>
    public static IEnumerable<int> Pids() =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    /// <summary>The process exists and is neither a zombie nor dead (state Z or X).</summary>
    public static bool IsAlive(int pid) => State(pid) is { } state && state is not ('Z' or 'X');

    /// <summary>The state letter of /proc/&lt;pid&gt;/stat (R, S, D, T, Z, ...), or null when the process is gone.</summary>
    public static char? State(int pid) => StatFields(pid)?[0][0];

    /// <summary>Process group and session of a process.</summary>
    public static (int Group, int Session) GroupAndSession(int pid)
    {
        var fields = StatFields(pid) ?? throw new InvalidOperationException($"process {pid} is gone");
        return (int.Parse(fields[2]), int.Parse(fields[3]));
    }

    /// <summary>Live processes whose process group is <paramref name="group"/>.</summary>
    public static IReadOnlyList<int> LiveMembersOf(int group) =>
        Pids().Where(pid => StatFields(pid) is { } f && f[0] is not ("Z" or "X") && int.Parse(f[2]) == group).ToList();

    public static IReadOnlyList<string> CommandLine(int pid) => Read($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0');

    public static IReadOnlyList<string> Environment(int pid) => Read($"/proc/{pid}/environ").TrimEnd('\0').Split('\0');

    public static string? WorkingDirectory(int pid) => new FileInfo($"/proc/{pid}/cwd").LinkTarget;

    /// <summary>Fields 3 onwards of /proc/&lt;pid&gt;/stat (the state first), or null when the process is gone.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Read(string path) => File.ReadAllText(path);
}
