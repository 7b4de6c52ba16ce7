namespace Motey.Host.Configuration;

/// <summary>One <c>key = value</c> line of config.ini and where it is.</summary>
internal sealed record IniEntry(string Section, string Key, string Value, int Line);

/// <summary>One <c>[SECTION]</c> of config.ini, the line of its header and its keys in file order.</summary>
internal sealed record IniSection(string Name, int Line, IReadOnlyList<IniEntry> Entries);

/// <summary>
/// config.ini as written, with the line of every section and key so that a message can point at them
/// (Microsoft.Extensions.Configuration.Ini keeps no lines and says "duplicate key" without naming key or line).
/// The format the original Motey's configparser and that provider read: <c>[SECTION]</c>, <c>key = value</c>, whole-line
/// comments starting with <c>;</c> or <c>#</c>; a value in double quotes loses them. Names compare ignoring case.
/// </summary>
internal sealed class IniFile
{
    private IniFile(string path, IReadOnlyList<IniSection> sections)
    {
        Path = path;
        Sections = sections;
    }

    public string Path { get; }
    public IReadOnlyList<IniSection> Sections { get; }

    /// <summary>"file:line", the way compilers and editors point at a line.</summary>
    public string At(int line) => $"{Path}:{line}";

    /// <summary>The entry for section and key, if the file sets it.</summary>
    public IniEntry? Find(string section, string key) => Sections
        .FirstOrDefault(s => s.Name.Equals(section, StringComparison.OrdinalIgnoreCase))?.Entries
        .FirstOrDefault(e => e.Key.Equals(key, StringComparison.OrdinalIgnoreCase));

    public static IniFile Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the config file: {e.Message}");
        }
        return Parse(path, text);
    }

    /// <summary>Parses <paramref name="text"/>; throws a <see cref="ConfigException"/> naming file and line for what is not INI.</summary>
    public static IniFile Parse(string path, string text)
    {
        var sections = new List<IniSection>();
        List<IniEntry>? entries = null;
        string? section = null;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var number = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] is ';' or '#') continue;
            if (line[0] == '[')
            {
                if (line[^1] != ']' || line[1..^1].Trim() is not { Length: > 0 } name)
                    throw new ConfigException($"{path}:{number}: '{line}' is not a section header such as [WEBSERVER]");
                if (sections.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } earlier)
                    throw new ConfigException($"[{name}] at {path}:{number} appears a second time (first at {path}:{earlier.Line}); keep one");
                section = name;
                entries = [];
                sections.Add(new IniSection(name, number, entries));
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new ConfigException($"{path}:{number}: '{line}' is neither [SECTION], key = value nor a comment (; or #)");
            var key = line[..equals].Trim();
            if (section is null || entries is null)
                throw new ConfigException($"{key} at {path}:{number} comes before any [SECTION]");
            if (entries.FirstOrDefault(e => e.Key.Equals(key, StringComparison.OrdinalIgnoreCase)) is { } first)
                throw new ConfigException($"[{section}] {key} is set twice, at {path}:{first.Line} and at {path}:{number}; keep one");
            entries.Add(new IniEntry(section, key, Unquote(line[(equals + 1)..].Trim()), number));
        }
        return new IniFile(path, sections);
    }

    private static string Unquote(string value) =>
        value.Length > 1 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
}
