using Microsoft.Playwright;

namespace Motey.Dashboard.Tests;

/// <summary>
/// One headless Chromium for every test of the collection: Debian's (<c>/usr/bin/chromium</c>, or the path in
/// <c>MOTEY_CHROMIUM</c>), driven by Playwright, which never downloads a browser of its own here. A machine without it
/// fails every test saying how to install it: a dashboard nobody opened is not a dashboard that works.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    /// <summary>Where Debian's chromium package puts the browser.</summary>
    public const string DefaultPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The browser's path: MOTEY_CHROMIUM when set, else <see cref="DefaultPath"/>.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("MOTEY_CHROMIUM") is { Length: > 0 } path ? path : DefaultPath;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser is not started");

    public async Task InitializeAsync()
    {
        var path = ExecutablePath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"no Chromium at {path}: these tests drive Debian's chromium and never download one. Install it with "
                + "`apt-get install -y --no-install-recommends chromium` (scripts/test-services.sh does, as root), "
                + "or set MOTEY_CHROMIUM to a Chromium binary.", path);
        }
        // Belt and braces: nothing in these tests calls `playwright install`, and nothing may fetch a browser on its behalf.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assertions.SetDefaultExpectTimeout(DashboardPage.Timeout);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = path,
            Headless = true,
            Args = ["--no-sandbox"],  // root has no user namespace sandbox; the pages are our own, on loopback
        });
    }

    /// <summary>A fresh context (its own cookies, storage and viewport) for one test.</summary>
    public Task<IBrowserContext> NewContextAsync(int width = 1366, int height = 850) =>
        Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height } });

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>The tests that share the one <see cref="Chromium"/>: run one after the other, which suits a 2-core CI machine.</summary>
[CollectionDefinition(Name)]
public sealed class OneChromium : ICollectionFixture<Chromium>
{
    public const string Name = "Browser";
}
