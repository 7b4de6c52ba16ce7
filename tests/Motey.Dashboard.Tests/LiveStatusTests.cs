using static Microsoft.Playwright.Assertions;

namespace Motey.Dashboard.Tests;

/// <summary>The header's live indicator when the agent goes away and comes back, and the page live again after it.</summary>
[Collection(OneChromium.Name)]
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Browser)]
public sealed class LiveStatusTests(Chromium chromium, DashboardAgent node) : IClassFixture<DashboardAgent>
{
    [Fact]
    public async Task The_page_says_reconnecting_while_the_agent_is_down_and_is_live_again_after_it_restarts()
    {
        var agent = node.Agent;
        await using var dashboard = await DashboardPage.OpenAsync(chromium, agent);
        var live = dashboard.TestId("live-status");
        await Expect(live).ToHaveTextAsync("live");
        await dashboard.MarkWindowAsync();

        agent.Terminate();
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await Expect(live).ToHaveTextAsync("reconnecting");

        await using var back = agent.Restart();
        await back.WaitHealthyAsync();
        await Expect(live).ToHaveTextAsync("live");

        // The events stream is back: a service deployed now shows up and runs without a reload.
        var name = Api.UniqueName("after-restart");
        await back.DeployAsync($"service_name: {name}\nimages:\n  - name: web\n    engine: simulated\n");
        await Expect(dashboard.ServiceRow(name).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        Assert.True(await dashboard.IsMarkedAsync(), "the page came back in the same window (no reload)");

        // The browser logs the connections the stop cut (the events stream: reset, incomplete) and those refused while it
        // was down: network failures, and nothing else (no HTTP error, no uncaught exception).
        dashboard.AssertNoConsoleProblems(p => p.StartsWith("console error: Failed to load resource: net::ERR_", StringComparison.Ordinal));
    }
}
