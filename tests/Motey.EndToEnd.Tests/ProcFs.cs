namespace Motey.EndToEnd.Tests;

internal static class ProcFs
{
    /// <summary>Whether the process lives (a zombie does not).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
