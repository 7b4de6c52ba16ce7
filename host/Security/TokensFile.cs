using Motey.Host.Configuration;

namespace Motey.Host.Security;

/// <summary>What a REST token may do: <see cref="Read"/> GET and HEAD, <see cref="Admin"/> everything.</summary>
internal enum ApiRole
{
    Read,
    Admin,
}

/// <summary>One line of the tokens file. The token is a secret: never log it, never put it in a message.</summary>
internal sealed record TokenEntry(ApiRole Role, string Token, int Line)
{
    public override string ToString() => $"{Role} token of line {Line}";  // records print every member; not this one
}

/// <summary>
/// [WEBSERVER] tokens: lines of <c>role token</c> (role <c>read</c> or <c>admin</c>), blank lines and <c>#</c> comments.
/// A line that is wrong stops the start naming file, line and what is wrong, and never quoting the line: a token
/// written in the role's place, or a role in the token's, would be a secret in the log.
/// </summary>
internal static class TokensFile
{
    /// <summary>Fewer characters than this could be guessed; `openssl rand -hex 32` makes 64.</summary>
    public const int MinLength = 16;

    public static IReadOnlyList<TokenEntry> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"[WEBSERVER] tokens = {path} cannot be read: {e.Message}");
        }
        var entries = new List<TokenEntry>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var where = $"{path}:{i + 1}";
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 2)
                throw Bad(where, $"expected two words, \"role token\" (role read or admin), found {words.Length}");
            var role = words[0] switch
            {
                "read" => ApiRole.Read,
                "admin" => ApiRole.Admin,
                _ => throw Bad(where, "the first word must be the role, read or admin (then the token)"),
            };
            var token = words[1];
            if (token.Length < MinLength)
            {
                throw Bad(where, $"the token has {token.Length} characters; at least {MinLength} are needed so that it cannot be guessed "
                    + "(make one with `openssl rand -hex 32`)");
            }
            if (token.Any(c => c is < '!' or > '~'))
                throw Bad(where, "the token has a character other than printable ASCII, which an Authorization header cannot carry");
            if (entries.FirstOrDefault(e => e.Token == token) is { } same)
                throw Bad(where, $"the token is the same as the one on line {same.Line}; each token has one role");
            entries.Add(new TokenEntry(role, token, i + 1));
        }
        if (entries.Count == 0) throw new ConfigException($"[WEBSERVER] tokens = {path} holds no token: add a line \"admin TOKEN\" or \"read TOKEN\"");
        return entries;
    }

    private static ConfigException Bad(string where, string what) => new($"{where}: [WEBSERVER] tokens: {what}");
}
