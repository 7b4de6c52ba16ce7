using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Motey.Host.Configuration;
using Motey.Host.Security;

namespace Motey.Host.CommandLine;

/// <summary>
/// How `motey start` and `motey status` reach the node their config.ini describes, as its operator (they run as the
/// node's user, beside its files): over HTTPS trusting exactly the node's own certificate ([WEBSERVER] tls_certificate,
/// pinned, so an address the certificate does not name, such as 127.0.0.1 for ip = 0.0.0.0, still works), and with a
/// token from [WEBSERVER] tokens, a read one when there is one.
/// </summary>
internal static class NodeClient
{
    /// <summary>
    /// An HttpClient for the node's REST API; <paramref name="token"/> is sent as its bearer token when not null.
    /// <paramref name="url"/>: another address than the config's (the client commands' --url); there a certificate the
    /// system trusts is accepted too, as that node's certificate may not be this one's.
    /// </summary>
    public static HttpClient Create(MoteySettings settings, TimeSpan timeout, TokenEntry? token = null, Uri? url = null)
    {
        var handler = new HttpClientHandler();
        if (settings.WebServer.TlsCertificate is { } file)
        {
            var pinned = Pinned(file);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
                (pinned is not null && certificate is not null && certificate.RawData.AsSpan().SequenceEqual(pinned))
                || (url is not null && errors == System.Net.Security.SslPolicyErrors.None);
        }
        var http = new HttpClient(handler) { BaseAddress = url ?? new Uri(DaemonCommands.RestUrl(settings)), Timeout = timeout };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        return http;
    }

    /// <summary>The token `motey status` sends: the first read token, else the first admin one; null without a tokens file.</summary>
    public static TokenEntry? Token(MoteySettings settings) => settings.WebServer.TokensFile is { } file
        ? TokensFile.Read(file).OrderBy(t => t.Role == ApiRole.Read ? 0 : 1).First()
        : null;

    /// <summary>The first token of <paramref name="role"/>, else the first of the other role; null without a tokens file.</summary>
    public static TokenEntry? Token(MoteySettings settings, ApiRole role) => settings.WebServer.TokensFile is { } file
        ? TokensFile.Read(file).OrderBy(t => t.Role == role ? 0 : 1).First()
        : null;

    /// <summary>The DER bytes of the first certificate in <paramref name="file"/>: the node's own; null when there is none.</summary>
    private static byte[]? Pinned(string file)
    {
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPem(File.ReadAllText(file));
            return certificates.Count > 0 ? certificates[0].RawData : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            return null;  // nothing to trust: every handshake fails, and the caller says the node does not answer
        }
    }
}
