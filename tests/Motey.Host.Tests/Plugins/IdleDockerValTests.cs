using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Plugins;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Plugins;

/// <summary>
/// An idle node with the shipped Docker VAL: its engine checks and the fence's container lists never load Docker.DotNet,
/// Newtonsoft.Json or the HTTP client into the plugin's load context (about 8 MiB of an idle node's memory).
/// </summary>
public sealed class IdleDockerValTests
{
    [Fact]
    public async Task Engine_checks_and_fence_lists_leave_docker_dotnet_unloaded()
    {
        using var folder = new TestFolder();
        using var engine = new CannedEngine(Path.Combine(folder.Path, "engine.sock"));
        engine.Answer("/_ping", CannedEngine.Http(200, "OK", "OK", "text/plain; charset=utf-8"));
        engine.Answer("/containers/json", CannedEngine.Http(200, "OK", "[]\n"));
        await using var node = await TestNode.StartAsync(folder, [TestNode.Docker], new Dictionary<string, string> { ["DOCKER:url"] = engine.Url });

        // The start's ping, then the health monitor's (every 0.2 s here) and the fence's list, which runs once right after the start.
        await Wait.UntilAsync(() => Task.FromResult(engine.Requests.Count(r => r.StartsWith("GET /_ping ", StringComparison.Ordinal)) >= 2
            && engine.Requests.Any(r => r.StartsWith("GET /containers/json?", StringComparison.Ordinal))),
            "the engine was pinged twice and its containers listed", detail: () => string.Join(", ", engine.Requests));

        var docker = node.Services.GetRequiredService<PluginCatalog>().Find("docker");
        Assert.NotNull(docker);
        Assert.Equal(EngineHealth.Available, await docker.CheckEngineAsync(default));
        var loaded = AssemblyLoadContext.GetLoadContext(docker.GetType().Assembly)!.Assemblies.Select(a => a.GetName().Name).ToList();
        Assert.Contains("Motey.Val.Docker", loaded);
        Assert.DoesNotContain("Docker.DotNet", loaded);
        Assert.DoesNotContain("Newtonsoft.Json", loaded);
    }
}
