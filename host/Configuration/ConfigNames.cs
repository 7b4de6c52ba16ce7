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
            .Select(c => (Name: c, Distance: Parsing.EditDistance.Between(name.ToUpperInvariant(), c.ToUpperInvariant())))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, Math.Min(name.Length / 3, 3)) ? best.Name : null;
    }
}
