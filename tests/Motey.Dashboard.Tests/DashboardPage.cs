using Microsoft.Playwright;

namespace Motey.Dashboard.Tests;

/// <summary>
/// The dashboard of one agent open in a fresh browser context (its own storage, its own viewport), with every console
/// error and warning and every uncaught exception of the page collected, so a test can say at its end that there were none.
/// </summary>
internal sealed class DashboardPage : IAsyncDisposable
{
    /// <summary>How long an assertion waits for the page: generous, CI machines are slow and the page is live.</summary>
    public const float Timeout = 30_000;

    /// <summary>What Chromium prints for a response with a 4xx/5xx status (the request itself, not the page, reports it).</summary>
    public const string FailedResource = "Failed to load resource: the server responded with a status of ";

    private readonly List<string> _problems = [];

    private DashboardPage(IBrowserContext context, IPage page, Uri origin)
    {
        Context = context;
        Page = page;
        Origin = origin;
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
                lock (_problems) _problems.Add($"console {message.Type}: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => { lock (_problems) _problems.Add($"uncaught: {error}"); };
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    /// <summary>The agent's own origin: the page and its API.</summary>
    public Uri Origin { get; }

    /// <summary>Opens <paramref name="agent"/>'s dashboard at <paramref name="route"/> (a hash route such as "#/deploy") in a new context.</summary>
    public static async Task<DashboardPage> OpenAsync(Chromium chromium, AgentProcess agent, string route = "", int width = 1366, int height = 850)
    {
        var context = await chromium.NewContextAsync(width, height);
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        var dashboard = new DashboardPage(context, page, agent.Client.BaseAddress!);
        await page.GotoAsync(new Uri(dashboard.Origin, "/" + route).ToString());
        return dashboard;
    }

    /// <summary>The element(s) of a data-testid of the contract (brief-dashboard.md).</summary>
    public ILocator TestId(string id) => Page.GetByTestId(id);

    /// <summary>Follows a navigation link of the header, as a user does (no reload: hash routes).</summary>
    public Task NavigateAsync(string view) => TestId("nav-" + view).ClickAsync();

    /// <summary>The row of the service named <paramref name="name"/> on the services list.</summary>
    public ILocator ServiceRow(string name) => Page.Locator($"[data-testid=service-row][data-service-name=\"{name}\"]");

    /// <summary>The row of image <paramref name="name"/> on the open service's detail.</summary>
    public ILocator ImageRow(string name) => Page.Locator($"[data-testid=image-row][data-image-name=\"{name}\"]");

    /// <summary>Marks the window: the mark is gone after a reload, so a test can show one never happened.</summary>
    public Task MarkWindowAsync() => Page.EvaluateAsync("() => { window.moteyTestMark = 'still here'; }");

    /// <summary>Whether the window marked by <see cref="MarkWindowAsync"/> is the same one (no reload, no navigation away).</summary>
    public async Task<bool> IsMarkedAsync() => await Page.EvaluateAsync<string?>("() => window.moteyTestMark ?? null") == "still here";

    /// <summary>The console errors and warnings and uncaught exceptions so far, except those <paramref name="expected"/> says were meant.</summary>
    public IReadOnlyList<string> Problems(Func<string, bool>? expected = null)
    {
        lock (_problems) return _problems.Where(p => expected is null || !expected(p)).ToList();
    }

    /// <summary>Fails listing them when the page logged an error or warning, or threw, that <paramref name="expected"/> does not allow.</summary>
    public void AssertNoConsoleProblems(Func<string, bool>? expected = null)
    {
        var problems = Problems(expected);
        Assert.True(problems.Count == 0, $"the page reported {problems.Count} problem(s):\n{string.Join("\n", problems)}");
    }

    /// <summary>The console error of a response with <paramref name="status"/>, which the browser logs whatever the page does with it.</summary>
    public static Func<string, bool> FailedResourceWith(int status) =>
        problem => problem.StartsWith("console error: " + FailedResource + status, StringComparison.Ordinal);

    /// <summary>Writes a PNG of the viewport (<see cref="Screenshots"/> says where).</summary>
    public async Task ScreenshotAsync(string name) => Screenshots.Save(name, await Page.ScreenshotAsync(new() { Type = ScreenshotType.Png }));

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
