using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host;
using Motey.Host.Configuration;
using Motey.Host.Core.Model;

namespace Motey.Host.Tests.Infrastructure;

/// <summary>
/// One agent in this process on a real loopback socket, with its own folder (config.ini, SQLite file,
/// plugins copied from the compiled test plugins). Start another on the same folder to test a restart.
/// </summary>
internal sealed class TestNode : IAsyncDisposable
{
    public const string Process = "Motey.Val.Process";
    public const string Simulated = "Motey.Val.Simulated";
    public const string Throwing = "Motey.TestVal.Throwing";
    public const string Hanging = "Motey.TestVal.Hanging";
    public const string Isolation = "Motey.TestVal.Isolation";
    public const string Flaky = "Motey.TestVal.Flaky";
    public const string Docker = "Motey.Val.Docker";

    private readonly WebApplication _app;

    private TestNode(WebApplication app, TestFolder folder, Uri address)
    {
        _app = app;
        Folder = folder;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public TestFolder Folder { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a node in <paramref name="folder"/> (a new temporary one when null) with the given plugins.
    /// <paramref name="settings"/> ("SECTION:key" → value) override the test defaults below.
    /// </summary>
    public static async Task<TestNode> StartAsync(TestFolder? folder = null, string[]? plugins = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        folder ??= new TestFolder();
        var pluginsDir = Path.Combine(folder.Path, "plugins");
        foreach (var plugin in plugins ?? [Process, Simulated])
            CopyDirectory(Path.Combine(AppContext.BaseDirectory, "plugins", plugin), Path.Combine(pluginsDir, plugin));
        var address = folder.Address;
        var values = new Dictionary<string, string>
        {
            // Its own loopback address: its embedded broker, ZeroMQ ports and REST port never clash with
            // other nodes of this run, nor with an agent on the default 127.0.0.1.
            ["WEBSERVER:ip"] = address,
            ["WEBSERVER:port"] = "0",
            ["MQTT:ip"] = address,
            ["MQTT:keepalive"] = "2",
            ["ZEROMQ:capability_engine_ipc_path"] = $"tcp://{address}:5090",
            ["ZEROMQ:request_timeout"] = "2",
            ["LOGGER:level"] = "Debug",
            ["PLUGINS:path"] = "plugins",
            ["PLUGINS:activation_timeout"] = "20",  // generous: test classes load plugins in parallel on two cores
            ["ORCHESTRATOR:reconcile_interval"] = "0.2",
            ["ORCHESTRATOR:restart_backoff"] = "0.2",
            ["PLUGINS:health_interval"] = "0.2",
            ["SIMULATED:start_delay_ms"] = "50",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) values[key] = value;
        var config = Path.Combine(folder.Path, "config.ini");
        ConfigIni.Write(config, values);
        var app = MoteyApp.Build(ConfigLoader.LoadFile(config));
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestNode(app, folder, new Uri(url));
    }

    private static int s_nodes;

    /// <summary>A loopback address no other node of this test run uses (all of 127.0.0.0/8 is local on Linux).</summary>
    public static string NextAddress()
    {
        var n = Interlocked.Increment(ref s_nodes);
        return $"127.{100 + Environment.ProcessId % 100}.{n / 250 % 250}.{n % 250 + 1}";
    }

    public string Address => new Uri(Client.BaseAddress!.ToString()).Host;

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string? contentType = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }
        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostBlueprintAsync(string yaml) => SendAsync(HttpMethod.Post, "/v1/service", yaml, "application/x-yaml");

    public async Task<Service> GetServiceAsync(string id) =>
        (await Client.GetFromJsonAsync<Service>($"/v1/service/{id}"))!;

    /// <summary>Polls the service until <paramref name="condition"/> holds, failing with the last state seen after <paramref name="timeout"/>.</summary>
    public Task<Service> WaitForServiceAsync(string id, Func<Service, bool> condition, TimeSpan? timeout = null) =>
        Wait.ForAsync(() => GetServiceAsync(id), condition, $"service {id} reaches the expected state",
            service => $"last seen: {System.Text.Json.JsonSerializer.Serialize(service)}", timeout);

    /// <summary>The body and content type <c>Results.Json(value)</c> writes in this node (its JSON options from DI).</summary>
    public async Task<(byte[] Body, string? ContentType)> ResultsJsonAsync<T>(T value)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = Services };
        using var body = new MemoryStream();
        context.Response.Body = body;
        await Microsoft.AspNetCore.Http.Results.Json(value).ExecuteAsync(context);
        return (body.ToArray(), context.Response.ContentType);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static void CopyDirectory(string from, string to)
    {
        if (!Directory.Exists(from)) throw new DirectoryNotFoundException($"compiled test plugin missing: {from}");
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            // A node started again in its folder finds its plugins there already; the runtime may still hold a file of the
            // first node's open (a .pdb read for a stack trace), which overwriting it would trip over.
            var target = file.Replace(from, to);
            if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(file))) continue;
            File.Copy(file, target, overwrite: true);
        }
    }
}

/// <summary>A temporary folder removed at the end of the test.</summary>
internal sealed class TestFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("motey-test-").FullName;

    /// <summary>The loopback address of the node kept in this folder: a restarted node keeps its address.</summary>
    public string Address { get; } = TestNode.NextAddress();

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
