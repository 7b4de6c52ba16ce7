using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using Motey.Host.Configuration;

namespace Motey.Host.Membership;

/// <summary>
/// TLS to the brokers ([MQTT] tls = true): a broker's certificate must name the host or address it is reached by and
/// chain to a CA of [MQTT] ca_file (those alone: custom root trust), or of the system's trust store when ca_file is
/// empty. Revocation is not checked (a private CA seldom publishes lists; .NET's HttpClient does not by default either).
/// </summary>
internal sealed class BrokerTls
{
    private readonly string? _caFile;
    private readonly X509Certificate2Collection? _authorities;

    private BrokerTls(string? caFile, X509Certificate2Collection? authorities)
    {
        _caFile = caFile;
        _authorities = authorities;
    }

    /// <summary>Null when [MQTT] tls is false; <see cref="InvalidOperationException"/> when ca_file holds no certificate.</summary>
    public static BrokerTls? From(MqttSettings mqtt)
    {
        if (!mqtt.Tls) return null;
        if (mqtt.CaFile is not { } caFile) return new BrokerTls(null, null);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"[MQTT] ca_file {caFile} cannot be read as PEM certificates: {e.Message}", e);
        }
        if (authorities.Count == 0) throw new InvalidOperationException($"[MQTT] ca_file {caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return new BrokerTls(caFile, authorities);
    }

    /// <summary>
    /// The client's TLS options for <paramref name="broker"/>; <paramref name="checkedCertificate"/> hears of every
    /// certificate checked: null when it was accepted, else why it was refused.
    /// </summary>
    public MqttClientTlsOptions Options(BrokerEndpoint broker, Action<string?>? checkedCertificate)
    {
        var builder = new MqttClientTlsOptionsBuilder()
            .UseTls()
            .WithTargetHost(broker.Host)
            .WithRevocationMode(X509RevocationMode.NoCheck)
            .WithCertificateValidationHandler(e =>
            {
                var why = Rejection(e, broker);
                checkedCertificate?.Invoke(why);
                return why is null;
            });
        if (_authorities is not null) builder = builder.WithTrustChain(_authorities);
        return builder.Build();
    }

    /// <summary>Why the broker's certificate is refused; null when it is accepted.</summary>
    private string? Rejection(MqttClientCertificateValidationEventArgs e, BrokerEndpoint broker)
    {
        var errors = e.SslPolicyErrors;
        if (errors == SslPolicyErrors.None) return null;
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || e.Certificate is null) return "the broker presented no certificate";
        var problems = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var status = e.Chain is { ChainStatus.Length: > 0 } chain ? $" ({string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct())})" : "";
            problems.Add(_caFile is null
                ? $"its certificate is not signed by a CA of the system's trust store{status}; name the CA that signed it in [MQTT] ca_file"
                : $"its certificate is not signed by a CA of [MQTT] ca_file {_caFile}{status}");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            problems.Add($"its certificate is not for {broker.Host} (it names {Names(e.Certificate)})");
        return string.Join("; and ", problems);
    }

    /// <summary>The subject alternative names of <paramref name="certificate"/>, or its subject when it has none.</summary>
    private static string Names(X509Certificate certificate)
    {
        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var san = loaded.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        var names = san is null ? [] : san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString())).ToList();
        return names.Count > 0 ? string.Join(", ", names) : loaded.Subject;
    }
}
