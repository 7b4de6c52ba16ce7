namespace Motey.Plugins.Tests;

/// <summary>Looks at processes from outside the VAL, the way an operator would with ps.</summary>
internal static class ProcFsProbe
{
    /// <summary>The process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => StatFields(pid) is { } fields && fields[0] is not ("Z" or "X");

    /// <summary>Process group and session of a process.</summary>
    public static (int Group, int Session) GroupAndSession(int pid)
    {
        var fields = StatFields(pid) ?? throw new InvalidOperationException($"process {pid} is gone");
        return (int.Parse(fields[2]), int.Parse(fields[3]));
    }

    /// <summary>Live processes whose process group is <paramref name="group"/>.</summary>
    public static IReadOnlyList<int> LiveMembersOf(int group) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && StatFields(pid) is { } f && f[0] is not ("Z" or "X") && int.Parse(f[2]) == group)
            .ToList();

    public static IReadOnlyList<string> CommandLine(int pid) => Read($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0');

    public static IReadOnlyList<string> Environment(int pid) => Read($"/proc/{pid}/environ").TrimEnd('\0').Split('\0');

    public static string? WorkingDirectory(int pid) => new FileInfo($"/proc/{pid}/cwd").LinkTarget;

    /// <summary>Fields 3 onwards of /proc/&lt;pid&gt;/stat, or null when the process is gone.</summary>
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
