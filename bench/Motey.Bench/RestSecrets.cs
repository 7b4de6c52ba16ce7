using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Motey.Bench;

/// <summary>What a secured agent's REST API is given, and what the driver may use of it.</summary>
[Flags]
internal enum RestSecurity
{
    /// <summary>Nothing configured: plain HTTP, no tokens (a loopback agent as shipped).</summary>
    None = 0,

    /// <summary>[WEBSERVER] tokens: an <c>admin</c> and a <c>read</c> token.</summary>
    Tokens = 1,

    /// <summary>[WEBSERVER] tls_certificate and tls_key: HTTPS with a self-signed certificate for the agent's address.</summary>
    Tls = 2,
}

/// <summary>
/// The files a secured agent reads, made in its folder the way an operator would make them: a self-signed ECDSA P-256
/// certificate whose subject alternative name is the agent's loopback address (PEM, key owner-only), and a tokens file
/// of <c>admin TOKEN</c> and <c>read TOKEN</c> lines (owner-only), each token 32 random bytes in hex. The agent refuses
/// secret files that its group or others can read, so both are created with mode 600.
/// </summary>
internal sealed class RestSecrets
{
    private RestSecrets(string? tokensFile, string? adminToken, string? readToken, string? certificateFile, string? keyFile, string? certificateHash)
    {
        TokensFile = tokensFile;
        AdminToken = adminToken;
        ReadToken = readToken;
        CertificateFile = certificateFile;
        KeyFile = keyFile;
        CertificateHash = certificateHash;
    }

    public string? TokensFile { get; }
    public string? AdminToken { get; }
    public string? ReadToken { get; }
    public string? CertificateFile { get; }
    public string? KeyFile { get; }

    /// <summary>SHA-256 of the certificate (hex): the driver's own HTTP client trusts exactly this certificate.</summary>
    public string? CertificateHash { get; }

    public bool Tls => CertificateFile is not null;

    public static RestSecrets Create(string folder, string address, RestSecurity security)
    {
        string? tokensFile = null, adminToken = null, readToken = null;
        if (security.HasFlag(RestSecurity.Tokens))
        {
            adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            readToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            tokensFile = Path.Combine(folder, "tokens");
            WriteOwnerOnly(tokensFile, $"# motey-bench: throwaway tokens of this run\nadmin {adminToken}\nread {readToken}\n");
        }
        string? certificateFile = null, keyFile = null, hash = null;
        if (security.HasFlag(RestSecurity.Tls))
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN=motey-bench {address}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Parse(address));
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
            certificateFile = Path.Combine(folder, "rest.pem");
            keyFile = Path.Combine(folder, "rest.key");
            File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
            WriteOwnerOnly(keyFile, key.ExportPkcs8PrivateKeyPem());
            hash = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        }
        return new RestSecrets(tokensFile, adminToken, readToken, certificateFile, keyFile, hash);
    }

    /// <summary>The [WEBSERVER] settings that name these files.</summary>
    public IEnumerable<KeyValuePair<string, string>> Settings()
    {
        if (TokensFile is not null) yield return new("WEBSERVER:tokens", TokensFile);
        if (CertificateFile is not null) yield return new("WEBSERVER:tls_certificate", CertificateFile);
        if (KeyFile is not null) yield return new("WEBSERVER:tls_key", KeyFile);
    }

    /// <summary>An HTTP handler that trusts this certificate only (or speaks plain HTTP).</summary>
    public SocketsHttpHandler Handler()
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        if (CertificateHash is { } expected)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), expected, StringComparison.OrdinalIgnoreCase);
        }
        return handler;
    }

    private static void WriteOwnerOnly(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;  // mode 600 from the start
        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(text);
    }
}
