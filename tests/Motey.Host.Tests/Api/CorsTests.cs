using System.Net;
using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Security;

namespace Motey.Host.Tests.Api;

/// <summary>
/// CORS: a page of a configured origin may call the API from a browser (the original's web client, a dashboard on
/// another port); a page of any other origin may not; with nothing configured, no origin may. A browser's preflight
/// carries no token, so it is answered before authentication.
/// </summary>
public sealed class CorsTests
{
    private const string Dashboard = "https://dashboard.example:8443";

    [Fact]
    public async Task A_preflight_from_a_configured_origin_is_allowed_even_with_tokens_and_the_real_request_then_needs_one()
    {
        await using var secured = await SecuredNode.StartAsync(settings: new Dictionary<string, string> { ["WEBSERVER:cors_origins"] = $"http://other.example, {Dashboard}" });
        using var anonymous = secured.Client(token: null);

        using var preflight = await anonymous.SendAsync(Preflight("POST", Dashboard));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(Dashboard, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(preflight, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("authorization", Header(preflight, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);

        using var admin = secured.Client(SecuredNode.AdminToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/service") { Headers = { { "Origin", Dashboard } } };
        using var answer = await admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(Dashboard, Header(answer, "Access-Control-Allow-Origin"));
        using var withoutToken = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/service") { Headers = { { "Origin", Dashboard } } });
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
    }

    [Fact]
    public async Task A_preflight_from_another_origin_is_refused()
    {
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string> { ["WEBSERVER:cors_origins"] = Dashboard });

        using var preflight = await node.Client.SendAsync(Preflight("DELETE", "https://evil.example"));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"), "no origin is granted to another page");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/capabilities") { Headers = { { "Origin", "https://evil.example" } } };
        using var answer = await node.Client.SendAsync(request);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"), "the browser keeps the answer from the other page");
    }

    [Fact]
    public async Task With_nothing_configured_no_origin_is_granted()
    {
        await using var node = await TestNode.StartAsync();

        using var preflight = await node.Client.SendAsync(Preflight("POST", Dashboard));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/service") { Headers = { { "Origin", Dashboard } } };
        using var answer = await node.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("dashboard.example")]
    [InlineData("https://dashboard.example/app")]
    [InlineData("ftp://dashboard.example")]
    [InlineData("*, https://dashboard.example")]
    public void An_origin_a_browser_never_sends_is_refused_at_load(string origins)
    {
        using var folder = new TestFolder();
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, $"[WEBSERVER]\ncors_origins = {origins}\n");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
        Assert.Contains($"{config}:2: [WEBSERVER] cors_origins = '{origins}' is invalid", error.Message, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Preflight(string method, string origin) => new(HttpMethod.Options, "/v1/service")
    {
        Headers = { { "Origin", origin }, { "Access-Control-Request-Method", method }, { "Access-Control-Request-Headers", "authorization, content-type" } },
    };

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : "";
}
