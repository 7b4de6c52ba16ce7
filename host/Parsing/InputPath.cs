using System.Globalization;
using System.Text.RegularExpressions;

namespace Motey.Host.Parsing;

/// <summary>Builds the paths errors name: <c>images[0].name</c>, <c>$[2].capability_type</c>, <c>parameters['80/tcp']</c>.</summary>
internal static partial class InputPath
{
    /// <summary>Where an error about the whole YAML document points.</summary>
    public const string YamlRoot = "(root)";

    public static string Member(string parent, string key)
    {
        // A key that is not a plain name is quoted so the path stays unambiguous ("a.b" vs a.b).
        var segment = PlainName().IsMatch(key) ? key : $"['{key.Replace("'", "\\'")}']";
        if (parent.Length == 0) return segment;
        return segment.StartsWith('[') ? parent + segment : $"{parent}.{segment}";
    }

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    /// <summary>How a list index is named when looking up a slot of a <see cref="YamlTree"/>.</summary>
    public static string Slot(int index) => index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The root path "" reads badly in an error; name it instead.</summary>
    public static string Display(string path) => path.Length == 0 ? YamlRoot : path;

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainName();
}
