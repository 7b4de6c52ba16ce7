namespace Motey.Val.Process;

/// <summary>Turns an image name into an executable file: an absolute path as is, a bare name through the agent's PATH.</summary>
internal static class ExecutableLocator
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>The absolute path of the executable, or null when the name does not resolve on this node.</summary>
    public static string? Resolve(string imageName)
    {
        if (string.IsNullOrWhiteSpace(imageName)) return null;
        if (Path.IsPathFullyQualified(imageName)) return IsExecutableFile(imageName) ? imageName : null;
        // A relative path would depend on the agent's working directory, which must never matter.
        if (imageName.Contains('/')) return null;

        var searchPath = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Path.IsPathFullyQualified(directory)) continue;
            var candidate = Path.Combine(directory, imageName);
            if (IsExecutableFile(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Why a name does not resolve, for the user.</summary>
    public static string NotFoundMessage(string imageName) =>
        $"executable '{imageName}' not found on this node (an image of the process engine is an absolute path to an executable file, or the name of one on the agent's PATH)";

    private static bool IsExecutableFile(string path)
    {
        try
        {
            // Follows symbolic links, so /usr/bin/python3 -> python3.11 counts.
            return File.Exists(path) && (File.GetUnixFileMode(path) & AnyExecute) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
