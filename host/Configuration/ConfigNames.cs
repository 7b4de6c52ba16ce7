namespace Motey.Host.Configuration;

/// <summary>
/// Which sections and keys config.ini may hold, so a misspelt one stops the start instead of leaving a default in place.
/// Known: the agent's sections and the shipped plugins' ([DOCKER], [PROCESS], [SIMULATED]) with exactly the keys of
/// <see cref="ConfigLoader.Defaults"/>. A third-party plugin's section is allowed, its keys being the plugin's business,
/// when it is named like a folder in [PLUGINS] path (the last part of the name: Motey.Val.Lxc → [LXC]) or listed in
/// [PLUGINS] sections.
/// </summary>
internal static class ConfigNames
{
    public static void Check(IniFile ini, Func<IReadOnlyCollection<string>> pluginSections)
    {
        var known = ConfigLoader.Defaults;
        IReadOnlyCollection<string>? plugins = null;
        foreach (var section in ini.Sections)
        {
            var name = known.Keys.FirstOrDefault(k => k.Equals(section.Name, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                plugins ??= pluginSections();
                if (plugins.Contains(section.Name, StringComparer.OrdinalIgnoreCase)) continue;
                var nearest = Nearest(section.Name, known.Keys.Concat(plugins));
                throw new ConfigException($"[{section.Name}] at {ini.At(section.Line)} is not a known section; " + (nearest is not null
                    ? $"did you mean [{nearest}]?"
                    : $"known: {string.Join(", ", known.Keys.Select(k => $"[{k}]"))}; a third-party plugin's section needs the plugin's "
                        + "folder in [PLUGINS] path (Motey.Val.Lxc → [LXC]) or its name in [PLUGINS] sections"));
            }
            foreach (var entry in section.Entries)
            {
                var keys = known[name].Keys;
                if (keys.Contains(entry.Key, StringComparer.OrdinalIgnoreCase)) continue;
                var nearest = Nearest(entry.Key, keys);
                var elsewhere = known.Where(s => s.Key != name && s.Value.ContainsKey(entry.Key.ToLowerInvariant())).Select(s => $"[{s.Key}]").ToList();
                throw new ConfigException($"[{section.Name}] {entry.Key} at {ini.At(entry.Line)} is not a known key; "
                    + (nearest is not null ? $"did you mean {nearest}?"
                        : elsewhere.Count > 0 ? $"it belongs in {string.Join(" or ", elsewhere)}"
                        : $"[{name}] knows {string.Join(", ", keys)}"));
            }
        }
    }

    /// <summary>
    /// The sections third-party plugins may use: the last part of each folder's name under <paramref name="pluginsFolder"/>
    /// in capitals (a plugin's section is its type in capitals, and the template names a plugin Motey.Val.&lt;Type&gt;), and
    /// the names listed in [PLUGINS] sections (commas or spaces between them).
    /// </summary>
    public static IReadOnlyCollection<string> PluginSections(string pluginsFolder, string listed)
    {
        var sections = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in listed.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            sections.Add(name.Trim('[', ']').ToUpperInvariant());
        try
        {
            foreach (var folder in Directory.EnumerateDirectories(pluginsFolder))
                sections.Add(Path.GetFileName(folder).Split('.')[^1].ToUpperInvariant());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No plugins folder (yet): only the listed sections are plugins'. The plugin host reports the folder itself.
        }
        return sections;
    }

    /// <summary>The candidate one or two edits away (a third of the name for long ones), or null.</summary>
    internal static string? Nearest(string name, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Name: c, Distance: Distance(name.ToUpperInvariant(), c.ToUpperInvariant())))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, Math.Min(name.Length / 3, 3)) ? best.Name : null;
    }

    /// <summary>Edits (insert, delete, substitute, swap two neighbours) between two names: optimal string alignment.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
