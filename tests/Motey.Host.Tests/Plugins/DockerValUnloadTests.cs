using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Plugins;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Plugins;

/// <summary>
/// Updates of the shipped Docker VAL after it used Docker.DotNet (whose Newtonsoft.Json asks the shared framework's
/// TypeDescriptor about every model type it reads): every old load context is collected. Before the host made
/// TypeDescriptor forget a version's types, each of these versions stayed loaded for good.
/// </summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class DockerValUnloadTests
{
    private const int Updates = 4;
    private const string Image = "motey/busybox:local";

    [Fact]
    public async Task Docker_val_versions_that_asked_the_engine_through_docker_dotnet_are_collected_after_updates()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Docker]);
        var catalog = node.Services.GetRequiredService<PluginCatalog>();
        var stamp = Path.Combine(folder.Path, "plugins", TestNode.Docker, "reload-stamp.txt");
        var old = new List<WeakReference>();

        for (var update = 1; update <= Updates; update++)
        {
            old.Add(await UseDockerDotNetAsync(catalog));
            await File.WriteAllTextAsync(stamp, update.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var plugin = (await node.RescanAsync())[TestNode.Docker];
            Assert.Equal("updated", plugin.GetProperty("last_reload").GetProperty("outcome").GetString());
        }

        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return old.All(c => !c.IsAlive);
        }, "the old Docker VAL load contexts are collected", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100),
            () => $"; {old.Count(c => c.IsAlive)} of {old.Count} still alive");
    }

    /// <summary>
    /// Asks the serving version about an image (Docker.DotNet, Newtonsoft.Json) and returns its load context, held weakly:
    /// no reference to the version stays on the caller's frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> UseDockerDotNetAsync(PluginCatalog catalog)
    {
        var docker = catalog.Find("docker")!;
        Assert.True(await docker.HasImageAsync(Image, CancellationToken.None), $"image {Image} is on the engine (see INFRA.md)");
        var context = AssemblyLoadContext.GetLoadContext(docker.GetType().Assembly)!;
        Assert.Contains("Docker.DotNet", context.Assemblies.Select(a => a.GetName().Name));
        return new WeakReference(context);
    }
}
