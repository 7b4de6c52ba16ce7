using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Motey.Host.Configuration;

namespace Motey.Host.Security;

/// <summary>
/// HTTPS for the REST API: [WEBSERVER] tls_certificate (PEM: the certificate, then any intermediates) and tls_key (PEM),
/// and with tls_client_ca (PEM CAs) mutual TLS: a client must present a certificate for client authentication that
/// chains to one of those CAs (no revocation check), or its handshake fails. Loaded when the agent is built, so a
/// file that is wrong stops the start naming the setting.
/// </summary>
internal sealed class RestTls
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private RestTls(X509Certificate2 certificate, X509Certificate2Collection intermediates, X509Certificate2Collection? clientCas)
    {
        Certificate = certificate;
        Intermediates = intermediates;
        ClientCas = clientCas;
    }

    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Intermediates { get; }
    /// <summary>The CAs a client's certificate must chain to; null = no client certificate asked.</summary>
    public X509Certificate2Collection? ClientCas { get; }

    /// <summary>The certificate, its key and the client CAs; null without tls_certificate. Throws a ConfigException naming the setting.</summary>
    public static RestTls? Load(WebServerSettings web)
    {
        if (web.TlsCertificate is not { } certificateFile || web.TlsKey is not { } keyFile) return null;
        var chain = Certificates(certificateFile, "tls_certificate");
        var key = ReadText(keyFile, "tls_key");
        if (!key.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            throw Bad("tls_key", keyFile, "holds no PEM private key (-----BEGIN PRIVATE KEY-----, or EC / RSA PRIVATE KEY)");
        if (key.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
            throw Bad("tls_key", keyFile, "is encrypted, and the agent has no passphrase: store it decrypted and owner-only (openssl pkey -in KEY -out KEY)");
        X509Certificate2 certificate;
        try
        {
            using var pem = X509Certificate2.CreateFromPem(ReadText(certificateFile, "tls_certificate"), key);
            // On Linux SslStream takes the PEM-loaded key as it is (checked); Windows' SChannel refuses such an ephemeral
            // key, so round-trip through PKCS#12.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)  // ArgumentException: a key of another certificate
        {
            // Not the exception's message: it does not say which file, and the key's parser has nothing else to add.
            throw Bad("tls_key", keyFile, $"is not a readable private key matching the certificate in tls_certificate = {certificateFile} "
                + "(the first certificate there must be this node's own, the key's pair)");
        }
        var intermediates = new X509Certificate2Collection();
        foreach (var extra in chain.Skip(1)) intermediates.Add(extra);
        var clientCas = web.TlsClientCa is { } caFile ? Certificates(caFile, "tls_client_ca") : null;
        return new RestTls(certificate, intermediates, clientCas);
    }

    /// <summary>Kestrel's HTTPS options for this certificate (and client CAs).</summary>
    public HttpsConnectionAdapterOptions HttpsOptions(ILogger logger)
    {
        var options = new HttpsConnectionAdapterOptions { ServerCertificate = Certificate, ServerCertificateChain = Intermediates };
        if (ClientCas is not null)
        {
            options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            options.ClientCertificateValidation = (certificate, presented, _) => AcceptsClient(certificate, presented, logger);
        }
        return options;
    }

    /// <summary>True when the client's certificate chains to one of the client CAs and may authenticate a client.</summary>
    private bool AcceptsClient(X509Certificate2 certificate, X509Chain? presented, ILogger logger)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ClientCas!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        foreach (var element in presented?.ChainElements.Skip(1) ?? []) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        if (chain.Build(certificate)) return true;
        logger.LogWarning("Refused a REST client's certificate {Subject} (issuer {Issuer}): {Problem}", certificate.Subject, certificate.Issuer,
            string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim())));
        return false;
    }

    private static X509Certificate2Collection Certificates(string path, string key)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(ReadText(path, key));
        }
        catch (CryptographicException e)
        {
            throw Bad(key, path, $"is not a readable PEM certificate file: {e.Message}");
        }
        if (certificates.Count == 0) throw Bad(key, path, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return certificates;
    }

    private static string ReadText(string path, string key)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Bad(key, path, $"cannot be read: {e.Message}");
        }
    }

    private static ConfigException Bad(string key, string path, string what) => new($"[WEBSERVER] {key} = {path} {what}");
}
