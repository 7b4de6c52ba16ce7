using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Motey.Dashboard.Tests;

/// <summary>The node, its plugins and its capabilities, as the dashboard of a single agent shows them.</summary>
[Collection(OneChromium.Name)]
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Browser)]
public sealed class NodeViewTests(Chromium chromium, DashboardAgent node) : IClassFixture<DashboardAgent>
{
    private readonly AgentProcess _agent = node.Agent;

    [Fact]
    public async Task The_page_loads_without_console_errors_and_shows_the_node_its_status_and_its_plugins()
    {
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent);

        await Expect(dashboard.TestId("node-address")).ToHaveTextAsync(_agent.Address);
        await Expect(dashboard.TestId("live-status")).ToHaveTextAsync("live");

        // No service yet (this class deploys none): the empty list says what to do and links to the editor.
        var noServices = dashboard.TestId("empty-services");
        await Expect(noServices).ToBeVisibleAsync();
        await noServices.Locator("a[href='#/deploy']").ClickAsync();
        await Expect(dashboard.TestId("blueprint-editor")).ToBeVisibleAsync();

        await dashboard.NavigateAsync("nodes");
        var self = dashboard.Page.Locator($"[data-testid=node-row][data-node-ip=\"{_agent.Address}\"]");
        await Expect(self).ToBeVisibleAsync();
        await Expect(self.GetByTestId("node-self")).ToBeVisibleAsync();
        await Expect(self.GetByTestId("node-cpu")).Not.ToBeEmptyAsync();
        await Expect(self.GetByTestId("node-memory")).Not.ToBeEmptyAsync();
        await Expect(self.GetByTestId("node-disk")).Not.ToBeEmptyAsync();
        await Expect(dashboard.TestId("empty-nodes")).ToBeVisibleAsync();  // alone: it says how another node joins

        // Every plugin the agent loaded (simulated, process, docker: whatever its build placed) has its row and state.
        var plugins = (await _agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!;
        Assert.NotEmpty(plugins);
        await dashboard.NavigateAsync("plugins");
        await Expect(dashboard.TestId("plugin-row")).ToHaveCountAsync(plugins.Count);
        foreach (var plugin in plugins)
        {
            var type = plugin.GetProperty("type").GetString();
            var name = plugin.GetProperty("name").GetString();
            // data-plugin: the brief does not say whether it is the type or the folder's name; either names the plugin.
            var row = dashboard.Page.Locator($"[data-testid=plugin-row][data-plugin=\"{type}\"], [data-testid=plugin-row][data-plugin=\"{name}\"]");
            await Expect(row).ToHaveCountAsync(1);
            await Expect(row.GetByTestId("plugin-state")).ToContainTextAsync(plugin.GetProperty("state").GetString()!, new() { IgnoreCase = true });
        }

        dashboard.AssertNoConsoleProblems();
    }

    [Fact]
    public async Task A_capability_added_from_the_form_is_listed_and_the_node_has_it_until_it_is_removed()
    {
        var capability = Api.UniqueName("lab");
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, "#/capabilities");
        await Expect(dashboard.TestId("capability-add")).ToBeEnabledAsync();

        await dashboard.TestId("capability-name").FillAsync(capability);
        await dashboard.TestId("capability-type").SelectOptionAsync("hardware");
        await dashboard.TestId("capability-add").ClickAsync();

        var row = dashboard.Page.Locator($"[data-testid=capability-row][data-capability=\"{capability}\"][data-capability-type=hardware]");
        await Expect(row).ToBeVisibleAsync();
        Assert.True(await _agent.HasCapabilityAsync(capability, "hardware"), $"GET /v1/capabilities lists {capability} (hardware)");

        await row.GetByTestId("capability-remove").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        Assert.False(await _agent.HasCapabilityAsync(capability, "hardware"), $"GET /v1/capabilities no longer lists {capability}");

        dashboard.AssertNoConsoleProblems();
    }

    [Fact]
    public async Task The_skip_link_from_the_keyboard_moves_the_focus_to_the_view_and_keeps_the_route()
    {
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, "#/nodes");
        var self = dashboard.Page.Locator($"[data-testid=node-row][data-node-ip=\"{_agent.Address}\"]");
        await Expect(self.GetByTestId("node-cpu")).Not.ToBeEmptyAsync();
        await dashboard.MarkWindowAsync();

        // The first Tab from the top of the page reaches the link, which then shows itself (it is off-screen until focused).
        var skip = dashboard.Page.GetByRole(AriaRole.Link, new() { Name = "Skip to content" });
        await dashboard.Page.Keyboard.PressAsync("Tab");
        await Expect(skip).ToBeFocusedAsync();
        await Expect(skip).ToBeInViewportAsync();

        await dashboard.Page.Keyboard.PressAsync("Enter");
        await Expect(dashboard.Page.Locator("#view")).ToBeFocusedAsync();
        // The same route and view: not #view, nor the services a plain "#view" link would route to.
        Assert.EndsWith("#/nodes", dashboard.Page.Url, StringComparison.Ordinal);
        await Expect(dashboard.TestId("nav-nodes")).ToHaveAttributeAsync("aria-current", "page");
        await Expect(self).ToBeVisibleAsync();
        await Expect(dashboard.Page.GetByRole(AriaRole.Heading, new() { Name = "Nodes", Exact = true })).ToBeVisibleAsync();
        Assert.True(await dashboard.IsMarkedAsync(), "the skip link did not reload the page");
        dashboard.AssertNoConsoleProblems();
    }
}
