using Motey.Host.Core.Model;
using static Microsoft.Playwright.Assertions;

namespace Motey.Dashboard.Tests;

/// <summary>The dashboard of an agent whose API wants tokens: it asks for one, keeps it for the session only, never in a URL.</summary>
[Collection(OneChromium.Name)]
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Browser)]
public sealed class TokenTests(Chromium chromium, TokenAgent node) : IClassFixture<TokenAgent>
{
    private readonly AgentProcess _agent = node.Agent;

    [Fact]
    public async Task The_page_asks_for_a_token_and_a_read_token_shows_the_data_with_change_controls_disabled()
    {
        var name = Api.UniqueName("guarded");
        var id = await _agent.DeployAsync($"service_name: {name}\nimages:\n  - name: web\n    engine: simulated\n");
        await _agent.WaitForServiceAsync(id, ServiceState.Running);

        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent);
        var urls = new List<string>();
        dashboard.Page.Request += (_, request) => { lock (urls) urls.Add(request.Url); };

        await Expect(dashboard.TestId("token-form")).ToBeVisibleAsync();
        await dashboard.TestId("token-input").FillAsync(TokenAgent.ReadToken);
        await dashboard.TestId("token-submit").ClickAsync();

        await Expect(dashboard.TestId("token-form")).ToBeHiddenAsync();
        await Expect(dashboard.TestId("node-address")).ToHaveTextAsync(_agent.Address);
        await Expect(dashboard.ServiceRow(name).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        await Expect(dashboard.TestId("token-clear")).ToBeVisibleAsync();
        Assert.Equal(TokenAgent.ReadToken, await dashboard.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('motey.token')"));

        // Changes need an admin token: the page asks the node for the token's role (GET /v1/security) before it draws,
        // says so and offers no enabled change control, so a read token never meets a refusal.
        await Expect(dashboard.TestId("readonly-note")).ToBeVisibleAsync();
        await dashboard.ServiceRow(name).GetByTestId("service-open").ClickAsync();
        await Expect(dashboard.TestId("service-detail").GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        await Expect(dashboard.TestId("service-delete")).ToBeDisabledAsync();
        await dashboard.NavigateAsync("capabilities");
        await Expect(dashboard.TestId("capability-add")).ToBeDisabledAsync();
        await dashboard.NavigateAsync("deploy");
        await Expect(dashboard.TestId("blueprint-submit")).ToBeDisabledAsync();

        // The session keeps it across a reload; the address bar and every request URL never carry it.
        await dashboard.Page.ReloadAsync();
        await Expect(dashboard.TestId("node-address")).ToHaveTextAsync(_agent.Address);
        await Expect(dashboard.TestId("token-form")).ToBeHiddenAsync();
        await Expect(dashboard.TestId("readonly-note")).ToBeVisibleAsync();
        Assert.DoesNotContain(TokenAgent.ReadToken, dashboard.Page.Url, StringComparison.Ordinal);
        lock (urls)
        {
            Assert.NotEmpty(urls);
            Assert.DoesNotContain(urls, url => url.Contains(TokenAgent.ReadToken, StringComparison.Ordinal));
        }

        // Forgetting it asks again.
        await dashboard.TestId("token-clear").ClickAsync();
        await Expect(dashboard.TestId("token-form")).ToBeVisibleAsync();
        Assert.Null(await dashboard.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('motey.token')"));

        // The browser logs every 401 (asked without a token): those, and nothing else (no 403: nothing was tried).
        dashboard.AssertNoConsoleProblems(DashboardPage.FailedResourceWith(401));
    }

    [Fact]
    public async Task An_admin_token_from_the_form_may_change_the_node()
    {
        var capability = Api.UniqueName("camera");
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, "#/capabilities");
        await dashboard.TestId("token-input").FillAsync(TokenAgent.AdminToken);
        await dashboard.TestId("token-submit").ClickAsync();
        await Expect(dashboard.TestId("node-address")).ToHaveTextAsync(_agent.Address);

        await dashboard.TestId("capability-name").FillAsync(capability);
        await dashboard.TestId("capability-type").SelectOptionAsync("hardware");
        await dashboard.TestId("capability-add").ClickAsync();
        await Expect(dashboard.Page.Locator($"[data-testid=capability-row][data-capability=\"{capability}\"]")).ToBeVisibleAsync();
        Assert.True(await _agent.HasCapabilityAsync(capability, "hardware"), "the admin token's change reached the node");
        await Expect(dashboard.TestId("readonly-note")).ToHaveCountAsync(0);

        dashboard.AssertNoConsoleProblems(DashboardPage.FailedResourceWith(401));
    }
}
