using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Core.Model;
using Motey.Host.Security;

namespace Motey.Host.Tests.Security;

/// <summary>
/// Every route of the app, found in its endpoint data source (so a route added later is covered without a change here):
/// without a token, with a wrong one, with a read token and with an admin token. Only the probes of
/// <see cref="RestSecurity.OpenRoutes"/> and the dashboard's files (<see cref="Motey.Host.Dashboard.DashboardEndpoints.Routes"/>)
/// answer without a token.
/// </summary>
public sealed class TokenTests : IAsyncLifetime
{
    private SecuredNode _node = null!;

    public async Task InitializeAsync() => _node = await SecuredNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private sealed record Route(string Method, string Pattern)
    {
        public bool Open => RestSecurity.OpenRoutes.Contains(Pattern) || Motey.Host.Dashboard.DashboardEndpoints.Routes.Contains(Pattern);
        public bool Reads => Method is "GET" or "HEAD";
        public string Path(string id = "no-such-id") =>
            Regex.Replace(Pattern.Replace("{**file}", "app.js", StringComparison.Ordinal), @"\{[^}]+\}", id);
        public override string ToString() => $"{Method} {Pattern}";
    }

    /// <summary>Every route and method the app maps (a route without methods answers all of them: tried with GET).</summary>
    private List<Route> Routes()
    {
        var routes = _node.Node.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods : ["GET"])
                .Select(method => new Route(method, "/" + e.RoutePattern.RawText!.Trim('/'))))
            .Distinct()
            .ToList();
        // The enumeration itself must see the app: the routes of each kind the README lists.
        foreach (var known in new[] { "GET /v1/service", "POST /v1/service", "DELETE /v1/service/{id}", "PUT /v1/capabilities", "GET /v1/security",
                     "GET /openapi/v1.json", "GET /v1/heartbeat", "GET /healthz" })
            Assert.Contains(known, routes.Select(r => r.ToString()));
        return routes;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string route, string? detail = null)
    {
        Assert.True(response.StatusCode == status, $"{route}: expected {(int)status}, got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, body.RootElement.GetProperty("status").GetInt32());
        if (detail is not null) Assert.Contains(detail, body.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Without_a_token_every_route_but_the_probes_answers_401_with_problem_details_and_WWW_Authenticate()
    {
        using var anonymous = _node.Client(token: null);
        foreach (var route in Routes())
        {
            using var response = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(route.Method), route.Path()));
            if (route.Open)
            {
                Assert.True(response.IsSuccessStatusCode, $"{route} is a probe: open without a token, but answered {(int)response.StatusCode}");
                continue;
            }
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, route.ToString(),
                $"needs a token: send \"Authorization: Bearer TOKEN\" with a token of role {(route.Reads ? "read or admin" : "admin")} from");
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        }
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_401_invalid_token_on_every_route_and_never_echoed()
    {
        using var wrong = _node.Client(SecuredNode.WrongToken);
        foreach (var route in Routes().Where(r => !r.Open))
        {
            using var response = await wrong.SendAsync(new HttpRequestMessage(new HttpMethod(route.Method), route.Path()));
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, route.ToString(), "not one of this node's tokens");
            Assert.Contains("error=\"invalid_token\"", Assert.Single(response.Headers.WwwAuthenticate).Parameter);
            Assert.DoesNotContain(SecuredNode.WrongToken, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_path_that_matches_no_route_answers_401_without_a_token_and_404_with_one()
    {
        using var anonymous = _node.Client(token: null);
        await AssertProblemAsync(await anonymous.GetAsync("/v2/nothing"), HttpStatusCode.Unauthorized, "/v2/nothing");
        using var reader = _node.Client(SecuredNode.ReadToken);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/v2/nothing")).StatusCode);
    }

    [Fact]
    public async Task A_read_token_reads_every_route_and_every_change_is_403_naming_admin_and_changes_nothing()
    {
        using var admin = _node.Client(SecuredNode.AdminToken);
        using var reader = _node.Client(SecuredNode.ReadToken);
        // Something for each change to change: a capability and a running service.
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/v1/capabilities", Json("""[{"capability":"lab","capability_type":"hardware"}]"""))).StatusCode);
        var created = await admin.PostAsync("/v1/service", Yaml("service_name: demo\nimages:\n- name: web\n  engine: simulated\n"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<Service>())!.Id;
        await Wait.UntilAsync(async () => (await admin.GetFromJsonAsync<Service>($"/v1/service/{id}"))!.State == ServiceState.Running,
            "the service runs");
        var before = await StateAsync(admin);

        foreach (var route in Routes().Where(r => !r.Open))
        {
            var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Path(id)) { Content = ChangeBody(route) };
            // Headers only: GET /v1/events streams until the client goes away.
            using var response = await reader.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (route.Reads)
            {
                Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                    $"{route} with a read token answered {(int)response.StatusCode}");
                continue;
            }
            await AssertProblemAsync(response, HttpStatusCode.Forbidden, route.ToString(), "needs a token of role admin; this token's role is read");
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("admin", body.RootElement.GetProperty("role_needed").GetString());
        }

        Assert.Equal(before, await StateAsync(admin));
    }

    [Fact]
    public async Task An_admin_token_passes_every_route()
    {
        using var admin = _node.Client(SecuredNode.AdminToken);
        foreach (var route in Routes())
        {
            using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(route.Method), route.Path()) { Content = ChangeBody(route) },
                HttpCompletionOption.ResponseHeadersRead);  // GET /v1/events streams until the client goes away
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{route} with the admin token answered {(int)response.StatusCode}");
        }
        // The changes really happened: PUT /v1/capabilities added gpu, POST /v1/service stored "other".
        Assert.Contains("\"gpu\"", await admin.GetStringAsync("/v1/capabilities"));
        Assert.Contains("\"other\"", await admin.GetStringAsync("/v1/service"));
    }

    [Fact]
    public async Task The_scheme_name_is_case_insensitive_and_a_token_in_another_scheme_is_refused()
    {
        using var client = _node.Client(token: null);
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/nodes");
        request.Headers.TryAddWithoutValidation("Authorization", $"bearer {SecuredNode.ReadToken}");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        request = new HttpRequestMessage(HttpMethod.Get, "/v1/nodes");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"x:{SecuredNode.AdminToken}")));
        await AssertProblemAsync(await client.SendAsync(request), HttpStatusCode.Unauthorized, "Basic", "not \"Bearer TOKEN\"");
    }

    [Fact]
    public async Task Tokens_never_reach_the_log_even_at_debug_level()
    {
        using (var reader = _node.Client(SecuredNode.ReadToken))
        using (var wrong = _node.Client(SecuredNode.WrongToken))
        using (var admin = _node.Client(SecuredNode.AdminToken))
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/nodes")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await reader.PutAsync("/v1/capabilities", Json("[]"))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/nodes")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/nodes")).StatusCode);
        }
        var log = Path.Combine(_node.Folder.Path, "logs", "motey.log");
        await Wait.UntilAsync(() => File.Exists(log) && new FileInfo(log).Length > 0, "the node has logged");
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = await new StreamReader(stream).ReadToEndAsync();
        foreach (var token in new[] { SecuredNode.ReadToken, SecuredNode.AdminToken, SecuredNode.WrongToken })
            Assert.DoesNotContain(token, text);
    }

    /// <summary>What the changes would change: the services, the capabilities, the instances.</summary>
    private static async Task<string> StateAsync(HttpClient admin) =>
        await admin.GetStringAsync("/v1/service") + await admin.GetStringAsync("/v1/capabilities") + await admin.GetStringAsync("/v1/instances");

    /// <summary>A body that would change something if the change were allowed; none for routes this test does not know.</summary>
    private static HttpContent? ChangeBody(Route route) => route.ToString() switch
    {
        "POST /v1/service" => Yaml("service_name: other\nimages:\n- name: web\n  engine: simulated\n"),
        "DELETE /v1/service" => Yaml("service_name: demo\n"),
        "PUT /v1/capabilities" => Json("""[{"capability":"gpu","capability_type":"hardware"}]"""),
        "DELETE /v1/capabilities" => Json("""[{"capability":"lab","capability_type":"hardware"}]"""),
        _ => null,
    };

    private static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/x-yaml");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
}
