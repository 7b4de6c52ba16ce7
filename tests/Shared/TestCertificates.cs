using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Motey.Tests.Shared;

/// <summary>
/// A throwaway certificate authority in a folder, and PEM certificates it signs: what an operator makes with openssl for
/// the REST API, the MQTT broker or a client, made here by .NET so tests need no tool. Keys are written owner-only
/// (mode 600), as the agent demands of files that hold secrets.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class TestCertificates
{
    private readonly ECDsa _caKey;

    /// <summary>A new CA in <paramref name="folder"/> (ca.pem).</summary>
    public TestCertificates(string folder, string name = "Motey test CA")
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaFile = Path.Combine(folder, "ca.pem");
        File.WriteAllText(CaFile, Ca.ExportCertificatePem());
    }

    public string Folder { get; }

    public X509Certificate2 Ca { get; }

    /// <summary>The CA's certificate (PEM): what a client trusts (ca_file, tls_client_ca).</summary>
    public string CaFile { get; }

    /// <summary>
    /// A server certificate for <paramref name="addresses"/> (IP addresses and host names as subject alternative names)
    /// signed by this CA: <c>NAME.pem</c> and <c>NAME.key</c> (owner-only).
    /// </summary>
    public PemPair Server(string name, params string[] addresses) => Issue(name, addresses, server: true);

    /// <summary>A client certificate (for mutual TLS) signed by this CA.</summary>
    public PemPair Client(string name) => Issue(name, [], server: false);

    /// <summary>An <see cref="HttpClientHandler"/> that trusts only this CA, optionally presenting <paramref name="client"/>.</summary>
    public HttpClientHandler Handler(PemPair? client = null)
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => certificate is not null && Trusts(certificate, errors),
        };
        if (client is not null) handler.ClientCertificates.Add(client.Load());
        return handler;
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA and only the unknown root stood in the way.</summary>
    public bool Trusts(X509Certificate2 certificate, System.Net.Security.SslPolicyErrors errors)
    {
        if ((errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private PemPair Issue(string name, string[] addresses, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (addresses.Length > 0)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var address in addresses)
            {
                if (IPAddress.TryParse(address, out var ip)) names.AddIpAddress(ip);
                else names.AddDnsName(address);
            }
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var certificate = request.Create(Ca.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        var pair = new PemPair(Path.Combine(Folder, name + ".pem"), Path.Combine(Folder, name + ".key"));
        File.WriteAllText(pair.Certificate, certificate.ExportCertificatePem());
        File.WriteAllText(pair.Key, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(pair.Key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return pair;
    }
}

/// <summary>A certificate and its private key, as PEM files.</summary>
internal sealed record PemPair(string Certificate, string Key)
{
    public X509Certificate2 Load()
    {
        using var pem = X509Certificate2.CreateFromPemFile(Certificate, Key);
        // SslStream wants a key it can use on every platform: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
