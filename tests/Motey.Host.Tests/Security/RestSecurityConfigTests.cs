using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Security;

/// <summary>
/// A tokens file, certificate or key that is wrong stops the start with a message naming the file (and line) and what
/// is wrong, never quoting a token; config.ini is loaded as `motey run` loads it, then the agent is built.
/// </summary>
public sealed class RestSecurityConfigTests : IDisposable
{
    private const string Token = "s3cret-0123456789abcdef";
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Config(params string[] webserver)
    {
        var config = Path.Combine(_folder.Path, "config.ini");
        File.WriteAllText(config, $"""
            [WEBSERVER]
            ip = {_folder.Address}
            port = 0
            {string.Join("\n", webserver)}
            [DATABASE]
            path = data/motey.db
            [LOGGER]
            log_path = logs
            """);
        return config;
    }

    private string Tokens(string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var file = Path.Combine(_folder.Path, "tokens");
        File.WriteAllText(file, text);
        File.SetUnixFileMode(file, mode);
        return file;
    }

    /// <summary>What the start says: config.ini loaded (ConfigLoader), then the agent built (MoteyApp), as `motey run` does.</summary>
    private static string StartRefused(string config)
    {
        var error = Assert.Throws<ConfigException>(() =>
        {
            var app = MoteyApp.Build(ConfigLoader.LoadFile(config), console: false);
            ((IDisposable)app).Dispose();
        });
        return error.Message;
    }

    [Theory]
    [InlineData($"read {Token}\nwriter {Token}x\n", 2, "the first word must be the role, read or admin (then the token)")]
    [InlineData($"# tokens\n\n{Token}\n", 3, "expected two words, \"role token\" (role read or admin), found 1")]
    [InlineData($"{Token} admin\n", 1, "the first word must be the role, read or admin (then the token)")]
    [InlineData($"admin {Token} read\n", 1, "expected two words, \"role token\" (role read or admin), found 3")]
    [InlineData($"admin {Token}\nread {Token}\n", 2, "the token is the same as the one on line 1; each token has one role")]
    [InlineData("admin short-token\n", 1, "the token has 11 characters; at least 16 are needed so that it cannot be guessed")]
    public void A_wrong_line_of_the_tokens_file_stops_the_start_naming_file_and_line_without_the_token(string text, int line, string what)
    {
        var file = Tokens(text);
        var message = StartRefused(Config($"tokens = {file}"));
        Assert.StartsWith($"{file}:{line}: [WEBSERVER] tokens: {what}", message);
        Assert.DoesNotContain(Token, message);
        Assert.DoesNotContain("short-token", message);
        Assert.False(File.Exists(Path.Combine(_folder.Path, "data", "motey.db")), "nothing was started");
    }

    [Fact]
    public void A_tokens_file_without_a_token_is_refused()
    {
        var file = Tokens("# nobody yet\n\n");
        Assert.Equal($"[WEBSERVER] tokens = {file} holds no token: add a line \"admin TOKEN\" or \"read TOKEN\"", StartRefused(Config($"tokens = {file}")));
    }

    [Fact]
    public void A_tokens_file_its_group_can_read_is_refused_when_config_ini_is_loaded()
    {
        var file = Tokens($"admin {Token}\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var config = Config($"tokens = {file}");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
        Assert.Equal($"{config}:4: [WEBSERVER] tokens = {file} holds a secret but its group or others can use it (mode 0640): chmod 600 it, "
            + "as ssh wants of a private key", error.Message);
    }

    [Fact]
    public void A_missing_certificate_file_is_refused_naming_the_setting()
    {
        var certificates = new TestCertificates(Path.Combine(_folder.Path, "tls"));
        var server = certificates.Server("rest", _folder.Address);
        var missing = Path.Combine(_folder.Path, "tls", "absent.pem");
        var config = Config($"tls_certificate = {missing}", $"tls_key = {server.Key}");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
        Assert.StartsWith($"{config}:4: [WEBSERVER] tls_certificate = {missing} cannot be read:", error.Message);
    }

    [Fact]
    public void A_certificate_file_without_a_certificate_is_refused_naming_tls_certificate()
    {
        var certificates = new TestCertificates(Path.Combine(_folder.Path, "tls"));
        var server = certificates.Server("rest", _folder.Address);
        File.WriteAllText(server.Certificate, "not a certificate\n");
        Assert.Equal($"[WEBSERVER] tls_certificate = {server.Certificate} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            StartRefused(Config($"tls_certificate = {server.Certificate}", $"tls_key = {server.Key}")));
    }

    [Fact]
    public void A_key_that_is_not_the_certificates_pair_is_refused_naming_tls_key()
    {
        var certificates = new TestCertificates(Path.Combine(_folder.Path, "tls"));
        var server = certificates.Server("rest", _folder.Address);
        var other = certificates.Server("other", _folder.Address);
        var message = StartRefused(Config($"tls_certificate = {server.Certificate}", $"tls_key = {other.Key}"));
        Assert.StartsWith($"[WEBSERVER] tls_key = {other.Key} is not a readable private key matching the certificate in tls_certificate = "
            + server.Certificate, message);
        Assert.DoesNotContain("PRIVATE KEY", message);
    }

    [Fact]
    public void A_key_file_without_a_key_is_refused_naming_tls_key()
    {
        var certificates = new TestCertificates(Path.Combine(_folder.Path, "tls"));
        var server = certificates.Server("rest", _folder.Address);
        File.WriteAllText(server.Key, File.ReadAllText(server.Certificate));  // a copy of the certificate where the key belongs
        var message = StartRefused(Config($"tls_certificate = {server.Certificate}", $"tls_key = {server.Key}"));
        Assert.StartsWith($"[WEBSERVER] tls_key = {server.Key} holds no PEM private key", message);
    }

    [Fact]
    public void A_client_ca_file_without_a_certificate_is_refused_naming_tls_client_ca()
    {
        var certificates = new TestCertificates(Path.Combine(_folder.Path, "tls"));
        var server = certificates.Server("rest", _folder.Address);
        var empty = Path.Combine(_folder.Path, "tls", "empty-ca.pem");
        File.WriteAllText(empty, "");
        Assert.Equal($"[WEBSERVER] tls_client_ca = {empty} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            StartRefused(Config($"tls_certificate = {server.Certificate}", $"tls_key = {server.Key}", $"tls_client_ca = {empty}")));
    }
}
