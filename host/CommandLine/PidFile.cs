using System.Globalization;

namespace Motey.Host.CommandLine;

/// <summary>
/// The daemon's pid file ([GENERAL] pid). A pid counts only while that process lives and is a motey agent,
/// so a pid file left by a crash (or a pid reused by another program) is recognised as stale.
/// </summary>
internal sealed class PidFile(string path)
{
    public string Path { get; } = path;

    /// <summary>The pid of the running agent this file names, or null (no file, unreadable, or stale).</summary>
    public int? ReadLive()
    {
        var pid = Read();
        return pid is { } p && IsMotey(p) ? p : null;
    }

    /// <summary>The pid written in the file, alive or not.</summary>
    public int? Read()
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes this process's pid atomically (temp file + rename).</summary>
    public void WriteCurrent()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temp = Path + ".tmp";
        File.WriteAllText(temp, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(temp, Path, overwrite: true);
    }

    /// <summary>Removes the file if it still names <paramref name="pid"/> (never another agent's file).</summary>
    public void DeleteIfOwnedBy(int pid)
    {
        if (Read() == pid) File.Delete(Path);
    }

    public void Delete() => File.Delete(Path);

    /// <summary>Whether the process lives (not a zombie) and runs the motey agent.</summary>
    public static bool IsMotey(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            if (stat[(stat.LastIndexOf(')') + 2)] is 'Z' or 'X') return false;
            var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            return argv.Take(2).Any(a => System.IO.Path.GetFileName(a) is "motey" or "motey.dll");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
