using System.Net;
using System.Text.Json;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Security;

/// <summary>GET /v1/security: the node's security posture as booleans and the warnings; never a secret nor where one is kept.</summary>
public sealed class SecurityEndpointTests
{
    [Fact]
    public async Task An_open_mode_node_says_so_with_its_warning_and_no_secret_or_path_in_the_body()
    {
        await using var node = await SecuredNode.StartAsync(tls: true, clientCa: true, settings: new Dictionary<string, string> { ["SECURITY:mode"] = "open" });
        using var client = node.Client(SecuredNode.ReadToken, clientCertificate: true);
        var response = await client.GetAsync("/v1/security");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;

        Assert.Equal("open", root.GetProperty("mode").GetString());
        var rest = root.GetProperty("rest");
        Assert.True(rest.GetProperty("tls").GetBoolean());
        Assert.True(rest.GetProperty("client_certificates").GetBoolean());
        Assert.True(rest.GetProperty("tokens").GetBoolean());
        Assert.False(rest.GetProperty("insecure").GetBoolean());
        var mqtt = root.GetProperty("mqtt");
        foreach (var key in new[] { "tls", "login", "embedded_broker_tls", "embedded_broker_logins" }) Assert.False(mqtt.GetProperty(key).GetBoolean(), key);
        Assert.False(root.GetProperty("zeromq").GetProperty("curve").GetBoolean());
        Assert.Equal("local", root.GetProperty("zeromq").GetProperty("capability_publishers").GetString());
        var warning = Assert.Single(root.GetProperty("warnings").EnumerateArray()).GetString();
        Assert.StartsWith("[SECURITY] mode = open:", warning);

        foreach (var secret in new[] { SecuredNode.ReadToken, SecuredNode.AdminToken, node.Folder.Path, node.TokensFile, ".key", ".pem", "-----BEGIN" })
            Assert.DoesNotContain(secret, body);
    }

    [Fact]
    public async Task A_default_loopback_node_is_secure_mode_with_nothing_on_and_no_warnings()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder);
        using var json = JsonDocument.Parse(await node.Client.GetStringAsync("/v1/security"));
        Assert.Equal("secure", json.RootElement.GetProperty("mode").GetString());
        Assert.False(json.RootElement.GetProperty("rest").GetProperty("tokens").GetBoolean());
        Assert.False(json.RootElement.GetProperty("rest").GetProperty("tls").GetBoolean());
        Assert.Empty(json.RootElement.GetProperty("warnings").EnumerateArray());
        Assert.Equal("admin", json.RootElement.GetProperty("role").GetString());   // no tokens: anyone may change anything
    }

    [Fact]
    public async Task The_caller_learns_the_role_of_its_token_so_a_page_offers_changes_only_to_an_admin()
    {
        await using var node = await SecuredNode.StartAsync();
        foreach (var (token, role) in new[] { (SecuredNode.ReadToken, "read"), (SecuredNode.AdminToken, "admin") })
        {
            using var client = node.Client(token);
            using var json = JsonDocument.Parse(await client.GetStringAsync("/v1/security"));
            Assert.Equal(role, json.RootElement.GetProperty("role").GetString());
        }
    }

    [Fact]
    public async Task Security_needs_a_token_when_the_node_has_tokens()
    {
        await using var node = await SecuredNode.StartAsync();
        using var anonymous = node.Client(token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/security")).StatusCode);
    }
}
