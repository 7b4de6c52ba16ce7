using System.Text.RegularExpressions;
using Microsoft.Playwright;
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

    [Fact]
    public async Task The_filter_box_narrows_the_list_to_the_matching_services_and_clearing_it_shows_them_all_again()
    {
        // Two services of one test, sharing a word of their names; the class's other tests leave theirs on the list too.
        var prefix = Api.UniqueName("sieve");
        var (apple, pear) = ($"{prefix}-apple", $"{prefix}-pear");
        foreach (var name in new[] { apple, pear }) await _agent.WaitForServiceAsync(await _agent.DeployAsync(Blueprint(name)), ServiceState.Running);
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, "#/services");
        foreach (var name in new[] { apple, pear }) await Expect(dashboard.ServiceRow(name).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        var rows = dashboard.TestId("service-row");
        var total = await rows.CountAsync();

        // The box has no testid of the contract: a user finds it by its label.
        var filter = dashboard.Page.GetByRole(AriaRole.Searchbox, new() { Name = "Filter services" });
        await Expect(filter).ToBeVisibleAsync();

        // A word both names share: those two, and only those.
        await filter.FillAsync(prefix);
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(dashboard.ServiceRow(apple)).ToBeVisibleAsync();
        await Expect(dashboard.ServiceRow(pear)).ToBeVisibleAsync();
        await Expect(dashboard.Page.GetByText($"2 of {total}", new() { Exact = true })).ToBeVisibleAsync();

        // Every word must match, whatever its case: one service.
        await filter.FillAsync($"{prefix} PEAR");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(dashboard.ServiceRow(pear)).ToBeVisibleAsync();
        await Expect(dashboard.ServiceRow(apple)).ToHaveCountAsync(0);
        await Expect(dashboard.Page.GetByText($"1 of {total}", new() { Exact = true })).ToBeVisibleAsync();

        // Nothing matches: no row, and the page says so.
        await filter.FillAsync($"{prefix}-plum");
        await Expect(rows).ToHaveCountAsync(0);
        await Expect(dashboard.Page.GetByText($"No service matches \"{prefix}-plum\".")).ToBeVisibleAsync();

        // Cleared: every service is back.
        await filter.ClearAsync();
        await Expect(rows).ToHaveCountAsync(total);
        await Expect(dashboard.ServiceRow(apple).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        await Expect(dashboard.ServiceRow(pear).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        await Expect(dashboard.Page.GetByText(new Regex(@"^\d+ of \d+$"))).ToHaveCountAsync(0);
        dashboard.AssertNoConsoleProblems();
    }

    [Fact]
    public async Task An_image_no_node_can_run_is_shown_waiting_in_INITIAL_naming_what_is_missing_and_can_be_deleted()
    {
        const string missing = "a-capability-nobody-has";
        var name = Api.UniqueName("stranded");
        // One image that runs beside one no node can run: the service waits (INITIAL), and its detail shows both badges.
        var id = await _agent.DeployAsync($"service_name: {name}\nimages:\n  - name: web\n    engine: simulated\n"
            + $"  - name: camera\n    engine: simulated\n    capabilities: [{missing}]\n");
        await using var dashboard = await DashboardPage.OpenAsync(chromium, _agent, "#/services");

        // The list: the service waits, its badge is not RUNNING's, and its message says which capability no node has.
        var row = dashboard.ServiceRow(name);
        var listState = row.GetByTestId("service-state");
        await Expect(row.Locator("td[data-label=Message]")).ToContainTextAsync($"images[1] (camera): waiting for a node that can run it");
        await Expect(row.Locator("td[data-label=Message]")).ToContainTextAsync($"lacks capability '{missing}'");
        await Expect(listState).ToHaveTextAsync("INITIAL");
        await Expect(listState).ToHaveClassAsync(new Regex(@"\bstate-initial\b"));
        await Expect(listState).Not.ToHaveClassAsync(new Regex(@"\bstate-running\b"));

        // The detail: the image waits, unplaced and without logs to read, its message naming the missing capability;
        // the image beside it runs, and the two badges look different.
        await row.GetByTestId("service-open").ClickAsync();
        await Expect(dashboard.TestId("service-detail")).ToHaveAttributeAsync("data-service-id", id);
        var (waiting, running) = (dashboard.ImageRow("camera"), dashboard.ImageRow("web"));
        await Expect(running.GetByTestId("image-state")).ToHaveTextAsync("RUNNING");
        await Expect(waiting.GetByTestId("image-state")).ToHaveTextAsync("INITIAL");
        await Expect(waiting.GetByTestId("image-message")).ToContainTextAsync("waiting for a node that can run it");
        await Expect(waiting.GetByTestId("image-message")).ToContainTextAsync($"lacks capability '{missing}'");
        await Expect(waiting.GetByTestId("image-node")).ToHaveTextAsync("—");
        await Expect(waiting.GetByTestId("image-logs")).ToBeDisabledAsync();
        await Expect(dashboard.TestId("service-detail").GetByTestId("service-state")).ToHaveTextAsync("INITIAL");
        await Expect(waiting.GetByTestId("image-state")).ToHaveClassAsync(new Regex(@"\bstate-initial\b"));
        await Expect(running.GetByTestId("image-state")).ToHaveClassAsync(new Regex(@"\bstate-running\b"));
        const string look = "badge => { const s = getComputedStyle(badge); return `${s.color} on ${s.backgroundColor}`; }";
        var (waitingLook, runningLook) = (await waiting.GetByTestId("image-state").EvaluateAsync<string>(look),
            await running.GetByTestId("image-state").EvaluateAsync<string>(look));
        Assert.NotEqual(runningLook, waitingLook);

        // Deleted through the dialog: nothing of it waits any more.
        await dashboard.TestId("service-delete").ClickAsync();
        await Expect(dashboard.TestId("confirm-dialog")).ToContainTextAsync(name);
        await dashboard.TestId("confirm-ok").ClickAsync();
        await Expect(dashboard.TestId("confirm-dialog")).ToBeHiddenAsync();
        await Expect(dashboard.TestId("service-detail").GetByTestId("service-state")).ToHaveTextAsync("TERMINATED");
        await Expect(waiting.GetByTestId("image-state")).ToHaveTextAsync("TERMINATED");
        await Expect(running.GetByTestId("image-state")).ToHaveTextAsync("TERMINATED");
        Assert.Equal(ServiceState.Terminated, Assert.Single(await _agent.ServicesNamedAsync(name)).State);
        dashboard.AssertNoConsoleProblems();
    }
}
