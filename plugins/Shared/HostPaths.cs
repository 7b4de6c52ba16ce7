namespace Motey.Val.Shared;

/// <summary>
/// Host paths as the kernel will see them, for checking a path against a list of allowed folders. Compiled into each
/// plugin that needs it (a source file, not an assembly: the plugins share nothing but the contract).
/// </summary>
internal static class HostPaths
{
    // The kernel's own limit on symbolic links followed in one lookup (MAXSYMLINKS).
    private const int MaxLinks = 40;

    /// <summary>
    /// The absolute path <paramref name="path"/> names, free of symbolic links, <c>.</c>, <c>..</c> and repeated or
    /// trailing slashes (what <c>realpath -m</c> prints): every existing component is resolved the way the kernel resolves
    /// it, so <c>..</c> after a link leaves the link's target, not the link; components that do not exist yet are taken
    /// as written. Throws <see cref="IOException"/> for a loop of links, or a component the agent may not look at.
    /// </summary>
    public static string Resolve(string path)
    {
        if (!path.StartsWith('/')) throw new ArgumentException($"'{path}' is not an absolute path", nameof(path));
        var resolved = new List<string>();
        var pending = new Stack<string>(Segments(path).Reverse());
        var links = 0;
        while (pending.TryPop(out var segment))
        {
            if (segment == ".") continue;
            if (segment == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var target = LinkTarget(Join(resolved) + (resolved.Count == 0 ? "" : "/") + segment);
            if (target is null)
            {
                resolved.Add(segment);
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"'{path}' leads through more than {MaxLinks} symbolic links");
            // An absolute target starts over from /, a relative one from the folder holding the link.
            if (target.StartsWith('/')) resolved.Clear();
            foreach (var part in Segments(target).Reverse()) pending.Push(part);
        }
        return Join(resolved);
    }

    /// <summary><see cref="Resolve"/>, or null for a loop of links or a component the agent may not look at.</summary>
    public static string? TryResolve(string path)
    {
        try
        {
            return Resolve(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> is <paramref name="folder"/> or inside it, by whole path segments: <c>/srv/data2</c>
    /// is not inside <c>/srv/data</c>. Both must already be resolved (<see cref="Resolve"/>).
    /// </summary>
    public static bool IsWithin(string path, string folder) =>
        folder == "/" || path == folder || (path.StartsWith(folder, StringComparison.Ordinal) && path.Length > folder.Length && path[folder.Length] == '/');

    /// <summary>The entries of a comma-separated list setting, trimmed; blank entries are dropped.</summary>
    public static IReadOnlyList<string> ListSetting(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] Segments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string Join(List<string> segments) => "/" + string.Join('/', segments);

    /// <summary>
    /// The target of a symbolic link; null for anything else, including what does not exist (yet). A component this
    /// process may not look at throws <see cref="IOException"/>: it could be a link to anywhere (the engine, which runs as
    /// root, would follow it), so a path through it cannot be judged and is refused.
    /// </summary>
    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"'{path}' cannot be looked at by the agent, so where it leads cannot be checked", e);
        }
    }
}
