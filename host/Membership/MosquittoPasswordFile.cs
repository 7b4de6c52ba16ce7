using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Motey.Host.Membership;

/// <summary>
/// The logins of a password file made by <c>mosquitto_passwd</c>, so the embedded broker and mosquitto can share one:
/// lines <c>user:$7$iterations$salt$hash</c> (PBKDF2-HMAC-SHA512, mosquitto 2's default) or <c>user:$6$salt$hash</c>
/// (SHA-512 of the password's bytes then the salt's, mosquitto 1.6's), salt and hash in base64; blank lines and lines
/// starting with <c>#</c> are skipped. Stricter than mosquitto, which skips some lines it cannot read: any other line is
/// an error naming file and line (and never the line's hash).
/// </summary>
internal sealed class MosquittoPasswordFile
{
    private const int Sha512Bytes = 64;

    /// <summary>Checked when the user is unknown, so a refusal takes about as long whether the user exists or not.</summary>
    private static readonly Hash s_decoy = new(Iterations: 101, Salt: new byte[12], Digest: new byte[Sha512Bytes]);

    private readonly Dictionary<string, Hash> _logins;

    private MosquittoPasswordFile(string path, Dictionary<string, Hash> logins)
    {
        Path = path;
        _logins = logins;
    }

    public string Path { get; }

    public int Count => _logins.Count;

    /// <summary>Reads <paramref name="path"/>; <see cref="FormatException"/> (<c>path:line: what</c>) for a line it cannot read.</summary>
    public static MosquittoPasswordFile Load(string path) => Parse(path, File.ReadAllLines(path, new UTF8Encoding(false, throwOnInvalidBytes: true)));

    public static MosquittoPasswordFile Parse(string path, IReadOnlyList<string> lines)
    {
        var logins = new Dictionary<string, Hash>(StringComparer.Ordinal);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var where = $"{path}:{i + 1}";
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) throw new FormatException($"{where}: not user:$7$iterations$salt$hash (a line of mosquitto_passwd)");
            var user = line[..colon].Trim();
            if (user.Length == 0) throw new FormatException($"{where}: no user name before ':'");
            if (firstLine.TryGetValue(user, out var first)) throw new FormatException($"{where}: user '{user}' is already on line {first}");
            logins[user] = ParseHash(line[(colon + 1)..].Trim(), $"{where}: user '{user}'");
            firstLine[user] = i + 1;
        }
        return new MosquittoPasswordFile(path, logins);
    }

    /// <summary>Whether the file has <paramref name="user"/> with <paramref name="password"/> (compared in constant time).</summary>
    public bool Accepts(string? user, ReadOnlySpan<byte> password) => Check(user, password) == LoginCheck.Accepted;

    public LoginCheck Check(string? user, ReadOnlySpan<byte> password)
    {
        var hash = user is not null && _logins.TryGetValue(user, out var found) ? found : null;
        var expected = hash ?? s_decoy;
        var matches = CryptographicOperations.FixedTimeEquals(expected.Compute(password), expected.Digest);
        return hash is null ? LoginCheck.UnknownUser : matches ? LoginCheck.Accepted : LoginCheck.WrongPassword;
    }

    private static Hash ParseHash(string text, string where)
    {
        var parts = text.Split('$');
        if (!text.StartsWith('$') || parts.Length < 2)
            throw new FormatException($"{where}: the password is not hashed (hash the file with mosquitto_passwd -U)");
        switch (parts[1])
        {
            case "7" when parts.Length == 5:
                if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
                    throw new FormatException($"{where}: the iterations of $7$ are not a whole number above 0");
                return new Hash(iterations, Base64(parts[3], "salt", where), Digest(parts[4], where));
            case "6" when parts.Length == 4:
                return new Hash(null, Base64(parts[2], "salt", where), Digest(parts[3], where));
            case "7" or "6":
                throw new FormatException($"{where}: not ${parts[1]}${(parts[1] == "7" ? "iterations$" : "")}salt$hash");
            default:
                throw new FormatException($"{where}: unknown hash ${parts[1]}$ (mosquitto_passwd writes $7$, or $6$ with -H sha512)");
        }
    }

    private static byte[] Digest(string text, string where)
    {
        var digest = Base64(text, "hash", where);
        if (digest.Length != Sha512Bytes) throw new FormatException($"{where}: the hash is {digest.Length} bytes, not the {Sha512Bytes} of SHA-512");
        return digest;
    }

    private static byte[] Base64(string text, string what, string where)
    {
        var bytes = new byte[text.Length];
        if (text.Length == 0 || !Convert.TryFromBase64String(text, bytes, out var length) || length == 0)
            throw new FormatException($"{where}: the {what} is not base64");
        return bytes[..length];
    }

    /// <param name="Iterations">PBKDF2 iterations ($7$); null for $6$ (one SHA-512).</param>
    private sealed record Hash(int? Iterations, byte[] Salt, byte[] Digest)
    {
        public byte[] Compute(ReadOnlySpan<byte> password)
        {
            if (Iterations is { } iterations) return Rfc2898DeriveBytes.Pbkdf2(password, Salt, iterations, HashAlgorithmName.SHA512, Sha512Bytes);
            var input = new byte[password.Length + Salt.Length];
            password.CopyTo(input);
            Salt.CopyTo(input, password.Length);
            return SHA512.HashData(input);
        }
    }
}

/// <summary>What a password file says of a login.</summary>
internal enum LoginCheck { Accepted, UnknownUser, WrongPassword }
