using Microsoft.Playwright;
using Motey.Host.Core.Model;
using static Microsoft.Playwright.Assertions;

namespace Motey.Dashboard.Tests;

/// <summary>A service spread over two nodes, as the dashboard of the node it was posted to shows it.</summary>
[Collection(OneChromium.Name)]
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Browser)]
public sealed class ClusterTests(Chromium chromium, TwoNodeCluster cluster) : IClassFixture<TwoNodeCluster>
{
    private const string Greenhouse = """
        service_name: greenhouse
        images:
          - name: controller
            engine: simulated
            capabilities: [gateway]
          - name: soil-sensor
            engine: simulated
            capabilities: [lab]
          - name: climate-sensor
            engine: simulated
            capabilities: [lab]
        """;

    private const string Irrigation = """
        service_name: irrigation
        images:
          - name: valve-control
            engine: simulated
            capabilities: [gateway]
          - name: moisture-probe
            engine: simulated
            capabilities: [lab]
        """;

    private const string WeatherStation = """
        service_name: weather-station
        images:
          - name: collector
            engine: simulated
            capabilities: [gateway]
        """;

    [Fact]
    public async Task An_image_only_the_other_node_can_run_is_shown_placed_there_and_both_nodes_are_listed()
    {
        var (a, b) = (cluster.A, cluster.B);
        var ids = new List<string>();
        foreach (var blueprint in new[] { Greenhouse, Irrigation, WeatherStation }) ids.Add(await a.DeployAsync(blueprint));
        foreach (var service in ids) await a.WaitForServiceAsync(service, ServiceState.Running);
        var id = ids[0];
        string[] names = ["greenhouse", "irrigation", "weather-station"];

        // The services list, the page an operator lands on, with images on both nodes: the README's screenshot.
        await using var dashboard = await DashboardPage.OpenAsync(chromium, a);
        foreach (var name in names) await Expect(dashboard.ServiceRow(name).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
        await dashboard.ScreenshotAsync("dashboard-desktop");

        await dashboard.ServiceRow("greenhouse").GetByTestId("service-open").ClickAsync();
        await Expect(dashboard.TestId("service-detail")).ToHaveAttributeAsync("data-service-id", id);
        foreach (var (image, node) in new[] { ("controller", a), ("soil-sensor", b), ("climate-sensor", b) })
        {
            await Expect(dashboard.ImageRow(image).GetByTestId("image-state")).ToHaveTextAsync("RUNNING");
            await Expect(dashboard.ImageRow(image).GetByTestId("image-node")).ToHaveTextAsync(node.Address);
        }

        // The same on a tablet.
        await using (var narrow = await DashboardPage.OpenAsync(chromium, a, "#/services", width: 768, height: 1024))
        {
            foreach (var name in names) await Expect(narrow.ServiceRow(name).GetByTestId("service-state")).ToHaveTextAsync("RUNNING");
            await narrow.ScreenshotAsync("dashboard-narrow");
            await narrow.ServiceRow("greenhouse").GetByTestId("service-open").ClickAsync();
            await Expect(narrow.ImageRow("soil-sensor").GetByTestId("image-node")).ToHaveTextAsync(b.Address);
            await Expect(narrow.ImageRow("controller").GetByTestId("image-node")).ToHaveTextAsync(a.Address);
            narrow.AssertNoConsoleProblems();
        }

        await dashboard.NavigateAsync("nodes");
        var own = dashboard.Page.Locator($"[data-testid=node-row][data-node-ip=\"{a.Address}\"]");
        var other = dashboard.Page.Locator($"[data-testid=node-row][data-node-ip=\"{b.Address}\"]");
        await Expect(dashboard.TestId("node-row")).ToHaveCountAsync(2);
        await Expect(own.GetByTestId("node-self")).ToBeVisibleAsync();
        await Expect(other.GetByTestId("node-self")).ToHaveCountAsync(0);
        await Expect(dashboard.TestId("empty-nodes")).ToHaveCountAsync(0);
        await Expect(other.GetByTestId("node-last-seen")).Not.ToBeEmptyAsync();
        // B's cpu, memory and disk come through A (GET /v1/nodes/{ip}/status asks B over ZeroMQ).
        await Expect(other.GetByTestId("node-cpu")).Not.ToBeEmptyAsync();
        await Expect(other.GetByTestId("node-status-error")).ToHaveCountAsync(0);

        dashboard.AssertNoConsoleProblems();
    }

    [Fact]
    public async Task Leaving_the_nodes_view_stops_its_polling_of_the_nodes_status()
    {
        var (a, b) = (cluster.A, cluster.B);
        await using var dashboard = await DashboardPage.OpenAsync(chromium, a, "#/nodes");
        foreach (var node in new[] { a, b })
        {
            var row = dashboard.Page.Locator($"[data-testid=node-row][data-node-ip=\"{node.Address}\"]");
            await Expect(row.GetByTestId("node-cpu")).Not.ToBeEmptyAsync();
        }

        // The status reads: the own node's (/v1/nodestatus) and B's, through A (/v1/nodes/{ip}/status).
        var seen = new List<string>();
        dashboard.Page.Request += (_, request) =>
        {
            var path = new Uri(request.Url).AbsolutePath;
            if (path == "/v1/nodestatus" || path.StartsWith("/v1/nodes/", StringComparison.Ordinal))
                lock (seen) seen.Add(path);
        };
        List<string> Take() { lock (seen) { var taken = seen.ToList(); seen.Clear(); return taken; } }

        // The view polls every 5 s: a fixed window of about two periods (a wait for nothing cannot be an Expect). On the
        // nodes view, the same window sees both reads again, which shows the recorder hears them.
        const float window = 11_000;
        Take();
        await dashboard.Page.WaitForTimeoutAsync(window);
        var onNodes = Take();
        Assert.Contains("/v1/nodestatus", onNodes);
        Assert.Contains($"/v1/nodes/{b.Address}/status", onNodes);

        await dashboard.NavigateAsync("services");
        await Expect(dashboard.Page.GetByRole(AriaRole.Heading, new() { Name = "Services", Exact = true })).ToBeVisibleAsync();
        Take();  // what the nodes view had under way when it was left
        await dashboard.Page.WaitForTimeoutAsync(window);
        var afterLeaving = Take();
        Assert.True(afterLeaving.Count == 0, $"the services view read the nodes' status {afterLeaving.Count} time(s): {string.Join(", ", afterLeaving)}");
        dashboard.AssertNoConsoleProblems();
    }
}
