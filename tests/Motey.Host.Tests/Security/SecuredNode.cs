using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Security;

/// <summary>
/// A <see cref="TestNode"/> whose REST API has a tokens file (a read and an admin token) and, when asked, HTTPS from a
/// throwaway CA, optionally with client certificates; and clients for it, each with its own token and trust.
/// </summary>
internal sealed class SecuredNode : IAsyncDisposable
{
    public const string ReadToken = "read-0123456789abcdef-read";
    public const string AdminToken = "admin-0123456789abcdef-admin";
    public const string WrongToken = "wrong-0123456789abcdef-wrong";

    private readonly TestNode _node;

    private SecuredNode(TestNode node, TestCertificates? certificates)
    {
        _node = node;
        Certificates = certificates;
        var url = node.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(url);
    }

    public TestNode Node => _node;
    public TestFolder Folder => _node.Folder;
    public Uri BaseAddress { get; }
    /// <summary>The CA that signed the REST certificate (and the clients' certificates); null over plain HTTP.</summary>
    public TestCertificates? Certificates { get; }
    public string TokensFile => Path.Combine(Folder.Path, "tokens");

    /// <summary>
    /// Starts the node. <paramref name="tls"/>: HTTPS with a certificate for its address; <paramref name="clientCa"/>:
    /// and clients must present one from the same CA. <paramref name="settings"/> go to config.ini as well.
    /// </summary>
    public static async Task<SecuredNode> StartAsync(bool tokens = true, bool tls = false, bool clientCa = false,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var folder = new TestFolder();
        var values = new Dictionary<string, string>();
        if (tokens)
        {
            var file = Path.Combine(folder.Path, "tokens");
            File.WriteAllText(file, $"# the test's tokens\nread {ReadToken}\n\nadmin {AdminToken}\n");
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            values["WEBSERVER:tokens"] = file;
        }
        TestCertificates? certificates = null;
        if (tls)
        {
            certificates = new TestCertificates(Path.Combine(folder.Path, "tls"));
            var server = certificates.Server("rest", folder.Address);
            values["WEBSERVER:tls_certificate"] = server.Certificate;
            values["WEBSERVER:tls_key"] = server.Key;
            if (clientCa) values["WEBSERVER:tls_client_ca"] = certificates.CaFile;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) values[key] = value;
        return new SecuredNode(await TestNode.StartAsync(folder, settings: values), certificates);
    }

    /// <summary>
    /// A client sending <paramref name="token"/> (none when null), trusting the node's CA over HTTPS (or what
    /// <paramref name="handler"/> trusts), presenting a client certificate of that CA when <paramref name="clientCertificate"/>.
    /// </summary>
    public HttpClient Client(string? token, HttpMessageHandler? handler = null, bool clientCertificate = false)
    {
        handler ??= Certificates is null ? new HttpClientHandler() : Certificates.Handler(clientCertificate ? Certificates.Client("client") : null);
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        _node.Folder.Dispose();
    }
}
