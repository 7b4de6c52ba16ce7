namespace Motey.Host.Parsing;

/// <summary>
/// Whether an unknown key is a typo of a known one: one or two edits away (at most a third of the known key's length, so
/// <c>ids</c> is not taken for <c>id</c>; in any case, so <c>Images</c> is a typo of <c>images</c>).
/// </summary>
internal static class KeyNearMiss
{
    /// <summary>The known key <paramref name="key"/> is a typo of, or null when it is none's.</summary>
    public static string? Of(string key, IEnumerable<string> known)
    {
        var lower = key.ToLowerInvariant();
        // Far longer or shorter keys cannot be two edits away: skip the table for them (a hostile key may be long).
        return known
            .Where(k => Math.Abs(k.Length - lower.Length) <= 2)
            .Select(k => (Key: k, Distance: EditDistance.Between(lower, k.ToLowerInvariant())))
            .Where(c => c.Distance <= Math.Min(2, c.Key.Length / 3))
            .OrderBy(c => c.Distance)
            .Select(c => c.Key)
            .FirstOrDefault();
    }
}

/// <summary>A top-level key a document may carry but the agent does not read, and the line it was written on.</summary>
/// <param name="Key">The key as written.</param>
/// <param name="Line">1-based line of the key; null when unknown.</param>
public sealed record IgnoredKey(string Key, long? Line)
{
    /// <summary>How many ignored keys one log line names; the rest are counted.</summary>
    public const int Shown = 10;

    /// <summary><c>version (line 1), author (line 2)</c>, the first <see cref="Shown"/>, then <c>and N more</c>.</summary>
    public static string Describe(IReadOnlyList<IgnoredKey> keys)
    {
        var shown = string.Join(", ", keys.Take(Shown).Select(k => YamlSchemaCheck.Quote(k.Key) + (k.Line is { } line ? $" (line {line})" : "")));
        return keys.Count > Shown ? $"{shown} and {keys.Count - Shown} more" : shown;
    }
}
