using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Motey.Host.Dashboard;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Security;

namespace Motey.Host.Tests.Api;

/// <summary>
/// The dashboard's files as a browser gets them from a real agent: the page at /, its assets, with the headers that keep
/// it from running anything but its own scripts. What the page does is proven in a browser (Motey.Dashboard.Tests).
/// </summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task The_page_at_the_root_links_only_its_own_assets_and_each_is_served_with_its_type()
    {
        await using var node = await TestNode.StartAsync();

        using var page = await node.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        var assets = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"]+)\"").Select(m => m.Groups[1].Value)
            .Where(link => !link.StartsWith('#')).ToList();   // the page's own routes
        Assert.Contains("/assets/app.js", assets);
        Assert.Contains("/assets/style.css", assets);
        Assert.All(assets, a => Assert.StartsWith("/assets/", a));   // nothing from a CDN: works offline
        // and every module the page imports, each embedded file
        foreach (var asset in assets.Concat(new DashboardFiles().Paths.Where(p => p != "index.html").Select(p => "/" + p)).Distinct())
        {
            using var answer = await node.Client.GetAsync(asset);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{asset}: {(int)answer.StatusCode}");
            var expected = Path.GetExtension(asset) switch { ".js" => "text/javascript", ".css" => "text/css", ".svg" => "image/svg+xml", _ => "?" };
            Assert.Equal(expected, answer.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Every_file_forbids_inline_and_foreign_scripts_and_framing()
    {
        await using var node = await TestNode.StartAsync();

        foreach (var path in new[] { "/", "/assets/app.js" })
        {
            using var answer = await node.Client.GetAsync(path);
            var policy = string.Join(";", answer.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", policy);
            Assert.Contains("frame-ancestors 'none'", policy);
            Assert.DoesNotContain("unsafe-inline", policy);
            Assert.Equal("nosniff", Assert.Single(answer.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("no-cache", answer.Headers.CacheControl?.ToString());
        }
    }

    [Fact]
    public async Task A_file_the_browser_holds_is_not_sent_again_and_a_compressed_copy_is_the_same_file()
    {
        await using var node = await TestNode.StartAsync();
        // The largest file: a compressed copy is kept only where it is smaller.
        var files = new DashboardFiles();
        var path = "/" + files.Paths.MaxBy(p => files.Find(p)!.Content.Length)!.Replace("index.html", "", StringComparison.Ordinal);

        using var first = await node.Client.GetAsync(path);
        var plain = await first.Content.ReadAsByteArrayAsync();
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var again = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { IfNoneMatch = { etag } } };
        using var notModified = await node.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var gzipped = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { AcceptEncoding = { new StringWithQualityHeaderValue("gzip") } } };
        using var compressed = await node.Client.SendAsync(gzipped);
        Assert.Equal("gzip", Assert.Single(compressed.Content.Headers.ContentEncoding));
        var body = await compressed.Content.ReadAsStreamAsync();
        await using var unzip = new GZipStream(body, CompressionMode.Decompress);
        using var copy = new MemoryStream();
        await unzip.CopyToAsync(copy);
        Assert.Equal(plain, copy.ToArray());
    }

    [Fact]
    public async Task An_unknown_asset_is_a_404_problem_naming_it()
    {
        await using var node = await TestNode.StartAsync();

        using var answer = await node.Client.GetAsync("/assets/nope.js");
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Contains("assets/nope.js", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_tokens_the_files_load_without_one_and_the_api_behind_them_still_needs_one()
    {
        await using var secured = await SecuredNode.StartAsync();
        using var anonymous = secured.Client(token: null);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/assets/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/service")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/events")).StatusCode);
    }

    [Fact]
    public async Task Switched_off_in_the_config_the_node_serves_no_page()
    {
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string> { ["WEBSERVER:dashboard"] = "false" });

        Assert.Equal(HttpStatusCode.NotFound, (await node.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Client.GetAsync("/assets/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Client.GetAsync("/v1/service")).StatusCode);
    }

    [Fact]
    public void Every_embedded_file_has_a_known_type()
    {
        var files = new DashboardFiles();
        Assert.Contains("index.html", files.Paths);
        Assert.All(files.Paths, p => Assert.NotEqual("application/octet-stream", files.Find(p)!.ContentType));
        Assert.All(files.Paths, p => Assert.False(files.Find(p)!.Content.AsSpan().StartsWith(Encoding.UTF8.Preamble), $"{p} starts with a BOM"));
    }
}
