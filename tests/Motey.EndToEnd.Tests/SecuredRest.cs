namespace Motey.EndToEnd.Tests;

/// <summary>
/// The files of an agent whose REST API has tokens and HTTPS, in its folder: a throwaway CA (tls/ca.pem), a server
/// certificate for its address, and a tokens file with a read and an admin token (owner-only). <see cref="Settings"/>
/// go into config.ini (<see cref="AgentProcess.Start"/>, <see cref="AgentProcess.WriteConfig"/>); <see cref="Access"/>
/// makes clients that trust the CA and send the admin token.
/// </summary>
internal sealed class SecuredRest
{
    public const string ReadToken = "e2e-read-0123456789abcdef";
    public const string AdminToken = "e2e-admin-0123456789abcdef";

    /// <param name="clientCertificates">true: [WEBSERVER] tls_client_ca too, and <see cref="Access"/>'s clients present a certificate of the CA.</param>
    public SecuredRest(string folder, string address, bool clientCertificates = false)
    {
        Certificates = new TestCertificates(Path.Combine(folder, "tls"));
        var server = Certificates.Server("rest", address);
        TokensFile = Path.Combine(folder, "tokens");
        File.WriteAllText(TokensFile, $"# REST tokens\nadmin {AdminToken}\nread {ReadToken}\n");
        File.SetUnixFileMode(TokensFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Settings = new Dictionary<string, string>
        {
            ["WEBSERVER:tokens"] = TokensFile,
            ["WEBSERVER:tls_certificate"] = server.Certificate,
            ["WEBSERVER:tls_key"] = server.Key,
        };
        var client = clientCertificates ? Certificates.Client("e2e-client") : null;
        if (clientCertificates) Settings["WEBSERVER:tls_client_ca"] = Certificates.CaFile;
        Access = new RestAccess(Https: true, Token: AdminToken, Handler: () => Certificates.Handler(client));
    }

    public TestCertificates Certificates { get; }
    public string TokensFile { get; }
    public Dictionary<string, string> Settings { get; }
    public RestAccess Access { get; }

    /// <summary><see cref="Settings"/> with <paramref name="more"/> on top.</summary>
    public Dictionary<string, string> With(IReadOnlyDictionary<string, string> more)
    {
        var all = new Dictionary<string, string>(Settings);
        foreach (var (key, value) in more) all[key] = value;
        return all;
    }
}
