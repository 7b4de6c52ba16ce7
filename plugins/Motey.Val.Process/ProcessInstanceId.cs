using System.Globalization;

namespace Motey.Val.Process;

/// <summary>
/// An instance id, <c>&lt;pid&gt;-&lt;starttime&gt;</c>: the kernel's start time (clock ticks since boot)
/// tells our process apart from a later one that got the same pid, so the id alone survives an agent restart.
/// </summary>
internal readonly record struct ProcessInstanceId(int Pid, ulong StartTime)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Pid}-{StartTime}");

    /// <summary>Parses an id; anything else (including path tricks like <c>../x</c>) is not one of ours.</summary>
    public static bool TryParse(string? text, out ProcessInstanceId id)
    {
        id = default;
        var dash = text?.IndexOf('-') ?? -1;
        if (dash <= 0) return false;
        var pidText = text.AsSpan(0, dash);
        var startText = text.AsSpan(dash + 1);
        // NumberStyles.None: digits only, so the text round-trips and is safe as a file name.
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0) return false;
        if (!ulong.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start)) return false;
        id = new ProcessInstanceId(pid, start);
        return id.ToString() == text;
    }
}
