using System.Net;
using System.Security.Authentication;

namespace Motey.Host.Tests.Security;

/// <summary>HTTPS from [WEBSERVER] tls_certificate and tls_key, and client certificates from tls_client_ca, on a real Kestrel socket.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task A_client_that_trusts_the_CA_reaches_the_API_over_https()
    {
        await using var node = await SecuredNode.StartAsync(tls: true);
        Assert.Equal("https", node.BaseAddress.Scheme);
        using var client = node.Client(SecuredNode.ReadToken);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/v1/heartbeat")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/nodes")).StatusCode);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_CA_refuses_the_handshake()
    {
        await using var node = await SecuredNode.StartAsync(tls: true);
        using var client = node.Client(SecuredNode.ReadToken, new HttpClientHandler());  // the system's trust store only
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/v1/heartbeat"));
        Assert.IsType<AuthenticationException>(refused.InnerException);
    }

    [Fact]
    public async Task Plain_http_to_the_https_port_is_not_served()
    {
        await using var node = await SecuredNode.StartAsync(tls: true);
        using var plain = new HttpClient { BaseAddress = new UriBuilder(node.BaseAddress) { Scheme = "http" }.Uri, Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync("/v1/heartbeat"));  // Kestrel closes the connection
    }

    [Fact]
    public async Task With_client_certificates_a_client_with_one_from_the_CA_is_served()
    {
        await using var node = await SecuredNode.StartAsync(tls: true, clientCa: true);
        using var client = node.Client(SecuredNode.ReadToken, clientCertificate: true);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/v1/heartbeat")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/nodes")).StatusCode);
    }

    [Fact]
    public async Task With_client_certificates_a_client_without_one_fails_the_handshake_even_for_the_heartbeat()
    {
        await using var node = await SecuredNode.StartAsync(tls: true, clientCa: true);
        using var client = node.Client(SecuredNode.AdminToken);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/v1/heartbeat"));
    }

    [Fact]
    public async Task With_client_certificates_one_from_another_CA_fails_the_handshake()
    {
        await using var node = await SecuredNode.StartAsync(tls: true, clientCa: true);
        var stranger = new TestCertificates(Path.Combine(node.Folder.Path, "other-ca"), "Another CA");
        var handler = node.Certificates!.Handler();
        handler.ClientCertificates.Add(stranger.Client("stranger").Load());
        using var client = node.Client(SecuredNode.AdminToken, handler);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/v1/heartbeat"));
        var log = Path.Combine(node.Folder.Path, "logs", "motey.log");
        await Wait.UntilAsync(() => ReadShared(log).Contains("Refused a REST client's certificate CN=stranger", StringComparison.Ordinal),
            "the node logs the refused client certificate", detail: () => ReadShared(log));
    }

    private static string ReadShared(string path)
    {
        if (!File.Exists(path)) return "";
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }
}
