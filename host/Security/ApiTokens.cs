using System.Security.Cryptography;
using System.Text;

namespace Motey.Host.Security;

/// <summary>
/// The tokens the REST API accepts, kept as SHA-256 hashes. A presented token is hashed and compared with every one of
/// them in constant time, so neither how much of it matches nor which token it matches shows in the time taken.
/// Read once at start: a change to the file takes effect at the next start.
/// </summary>
internal sealed class ApiTokens
{
    private readonly (byte[] Hash, int RoleBit)[] _tokens;

    private ApiTokens(IEnumerable<TokenEntry> entries) =>
        _tokens = entries.Select(e => (Hash(e.Token), e.Role == ApiRole.Admin ? AdminBit : ReadBit)).ToArray();

    private const int ReadBit = 1;
    private const int AdminBit = 2;

    /// <summary>The tokens of [WEBSERVER] tokens; throws a <see cref="Configuration.ConfigException"/> naming the line that is wrong.</summary>
    public static ApiTokens Load(string path) => new(TokensFile.Read(path));

    /// <summary>The role of <paramref name="token"/>, or null when it is none of this node's tokens.</summary>
    public ApiRole? RoleOf(ReadOnlySpan<char> token)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        // Every request with a token comes here: encode on the stack (a header is rarely long), not in two new arrays.
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        var rented = length > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
        var buffer = rented ?? stackalloc byte[512];
        SHA256.HashData(buffer[..Encoding.UTF8.GetBytes(token, buffer)], presented);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        var roles = 0;
        foreach (var (hash, roleBit) in _tokens)
            roles |= CryptographicOperations.FixedTimeEquals(presented, hash) ? roleBit : 0;
        return (roles & AdminBit) != 0 ? ApiRole.Admin : (roles & ReadBit) != 0 ? ApiRole.Read : null;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
