namespace Motey.Host.Parsing;

/// <summary>Checks on text that becomes a name (service, image, engine, capability).</summary>
public static class InputText
{
    /// <summary>The first control character (C0, DEL, C1) in <paramref name="text"/> as "U+000A", or null when there is none.</summary>
    public static string? ControlCharacter(string text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c)) return $"U+{(int)c:X4}";
        }
        return null;
    }
}
