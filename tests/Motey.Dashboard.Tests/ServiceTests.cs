using Motey.Host.Core.Model;
using static Microsoft.Playwright.Assertions;

namespace Motey.Dashboard.Tests;

/// <summary>A service's life on the dashboard of one agent: deployed from the editor, watched live, its logs read, deleted.</summary>
[Collection(OneChromium.Name)]
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Browser)]
public sealed class ServiceTests(Chromium chromium, DashboardAgent node) : IClassFixture<DashboardAgent>
{
    private readonly AgentProcess _agent = node.Agent;

    private static string Blueprint(string name, int startDelayMs = 200) =>
        $"service_name: {name}\nimages:\n  - name: web\n    engine: simulated\n    parameters: {{start_delay_ms: {startDelayMs}}}\n";

    [Fact]
    public async Task A_blueprint_posted_from_the_editor_reaches_RUNNING_without_a_reload()
    {
        var name = Api.UniqueName("editor");
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent);
        await Expect(dashboard.TestId("node-address")).ToHaveTextAsync(_agent.Address);
        await dashboard.NavigateAsync("deploy");
        await dashboard.MarkWindowAsync();

        // A start delay long enough that the page must follow the events to see RUNNING, not find it on its first look.
        await dashboard.TestId("blueprint-editor").FillAsync(Blueprint(name, startDelayMs: 1500));
        await dashboard.TestId("blueprint-submit").ClickAsync();

        var detail = dashboard.TestId("service-detail");
        await Expect(detail).ToBeVisibleAsync();
        var id = Assert.Single(await _agent.ServicesNamedAsync(name)).Id;
        await Expect(detail).ToHaveAttributeAsync("data-service-id", id);
        Assert.EndsWith($"#/services/{id}", dashboard.Page.Url, StringComparison.Ordinal);
        await Expect(detail.GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        var image = dashboard.ImageRow("web");
        await Expect(image.GetByTestId("image-state")).ToHaveTextAsync("RUNNING");
        await Expect(image.GetByTestId("image-node")).ToHaveTextAsync(_agent.Address);

        Assert.True(await dashboard.IsMarkedAsync(), "the page reached RUNNING in the window it was posted from (no reload)");
        await dashboard.NavigateAsync("services");
        await Expect(dashboard.ServiceRow(name).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        dashboard.AssertNoConsoleProblems();
    }

    public static TheoryData<string, string, int, int> BadBlueprints => new()
    {
        // An image without its engine: the error is the image's, where its mapping starts.
        {
            "missing-engine",
            "service_name: greenhouse\nimages:\n  - name: controller\n    engine: simulated\n    capabilities: [gateway]\n"
                + "  - name: soil-sensor\n    parameters: {start_delay_ms: 500}\n    capabilities: [lab]\n",
            6, 5
        },
        // Not YAML at all: an unclosed flow sequence, reported where the parser gave up (the end of that line).
        { "yaml-syntax", "service_name: broken\nimages:\n  - name: web\n    engine: simulated\n    capabilities: [lab\n  - name: db\n", 5, 19 },
    };

    [Theory]
    [MemberData(nameof(BadBlueprints))]
    public async Task A_bad_blueprint_shows_the_servers_error_at_its_line(string kind, string yaml, int line, int column)
    {
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, "#/deploy");
        await dashboard.TestId("blueprint-editor").FillAsync(yaml);
        await dashboard.TestId("blueprint-submit").ClickAsync();

        await Expect(dashboard.TestId("blueprint-error").First).ToBeVisibleAsync();
        await Expect(dashboard.TestId("blueprint-error").First).ToHaveAttributeAsync("data-line", line.ToString());
        await Expect(dashboard.TestId("blueprint-error").First).ToHaveAttributeAsync("data-column", column.ToString());
        await Expect(dashboard.TestId("blueprint-error-line")).ToHaveAttributeAsync("data-line", line.ToString());
        Assert.Contains("#/deploy", dashboard.Page.Url, StringComparison.Ordinal);
        if (kind == "missing-engine") await dashboard.ScreenshotAsync("dashboard-blueprint-error");

        // The browser logs the 400 itself, whatever the page does with it: that one is expected, nothing else. That it was
        // seen also shows the console is really listened to, which every "no console errors" of these tests relies on.
        Assert.Contains(dashboard.Problems(), problem => DashboardPage.FailedResourceWith(400)(problem));
        dashboard.AssertNoConsoleProblems(DashboardPage.FailedResourceWith(400));
    }

    [Fact]
    public async Task An_images_logs_appear_and_new_lines_keep_arriving_while_following()
    {
        var name = Api.UniqueName("chatter");
        var id = await _agent.DeployAsync(Blueprint(name));
        await _agent.WaitForServiceAsync(id, ServiceState.Running);
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, $"#/services/{id}");

        var image = dashboard.ImageRow("web");
        await Expect(image.GetByTestId("image-state")).ToHaveTextAsync("RUNNING");
        await image.GetByTestId("image-logs").ClickAsync();

        var panel = dashboard.TestId("log-panel");
        await Expect(panel).ToBeVisibleAsync();
        await Expect(panel.GetByTestId("log-follow")).ToBeCheckedAsync();
        var lines = panel.GetByTestId("log-line");
        await Expect(lines.First).ToContainTextAsync("simulated instance");
        var seen = await lines.CountAsync();
        // Following: lines the instance prints after the panel opened arrive without anything being clicked.
        await dashboard.Page.WaitForFunctionAsync(
            "seen => document.querySelectorAll('[data-testid=log-panel] [data-testid=log-line]').length > seen", seen,
            new() { Timeout = DashboardPage.Timeout });

        await panel.GetByTestId("log-close").ClickAsync();
        await Expect(panel).ToBeHiddenAsync();
        dashboard.AssertNoConsoleProblems();
    }

    [Fact]
    public async Task Deleting_a_service_through_the_confirmation_dialog_shows_it_TERMINATED_live()
    {
        var name = Api.UniqueName("doomed");
        var id = await _agent.DeployAsync(Blueprint(name));
        await _agent.WaitForServiceAsync(id, ServiceState.Running);
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, $"#/services/{id}");
        var state = dashboard.TestId("service-detail").GetByTestId("service-state");
        await Expect(state).ToHaveTextAsync("RUNNING");
        await dashboard.MarkWindowAsync();

        // Cancel, or Escape from the keyboard, leaves it running.
        var dialog = dashboard.TestId("confirm-dialog");
        await dashboard.TestId("service-delete").ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync(name);
        await Expect(dialog).ToContainTextAsync(id);
        await dashboard.TestId("confirm-cancel").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await dashboard.TestId("service-delete").FocusAsync();
        await dashboard.Page.Keyboard.PressAsync("Enter");
        await Expect(dialog).ToBeVisibleAsync();
        await dashboard.Page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal(ServiceState.Running, Assert.Single(await _agent.ServicesNamedAsync(name)).State);

        await dashboard.TestId("service-delete").ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await dashboard.TestId("confirm-ok").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(state).ToHaveTextAsync("TERMINATED");
        await Expect(dashboard.ImageRow("web").GetByTestId("image-state")).ToHaveTextAsync("TERMINATED");

        Assert.True(await dashboard.IsMarkedAsync(), "the page saw TERMINATED in the same window (no reload)");
        Assert.Equal(ServiceState.Terminated, Assert.Single(await _agent.ServicesNamedAsync(name)).State);
        dashboard.AssertNoConsoleProblems();
    }
}
