using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Plugins;
using Motey.Host.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Motey.Host.Tests.Plugins;

/// <summary>Run alone (no other test class allocates meanwhile), so the process's private memory is this test's.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReloadCycles
{
    public const string Name = "plugin reload cycles";
}

/// <summary>
/// Many updates of a plugin (versions 1 and 2 in turn): every old load context is collected, and the node's private
/// memory (smaps_rollup Private_*) does not grow with them.
/// </summary>
[Collection(ReloadCycles.Name)]
public sealed class PluginReloadCycleTests(ITestOutputHelper output)
{
    private const int Cycles = 50;
    /// <summary>
    /// Reloads before the first measurement: the host's own reload code is compiled again at its optimising tier after some
    /// 30 calls, which alone adds a few MiB once (measured: +7 MiB between the 20th and 40th reload, then flat).
    /// </summary>
    private const int WarmUp = 40;
    /// <summary>
    /// Measured over 50 reloads after the warm-up: +2 to +5 MiB of noise with every context collected, +5 to +11 MiB with
    /// the 50 contexts of this small plugin held on purpose. So this bound catches a gross leak (a copy, a mapped file, a
    /// heap per reload); a context of a small plugin left behind is caught by the weak references above it.
    /// </summary>
    private const long AllowedGrowth = 16 << 20;

    [Fact]
    public async Task Fifty_updates_after_a_warm_up_leave_every_old_load_context_collected_and_private_memory_flat()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [ReloadablePlugin.Name], ReloadablePlugin.NoWatch);
        var catalog = node.Services.GetRequiredService<PluginCatalog>();
        var old = new List<WeakReference>();
        long warm = 0;

        for (var cycle = 1; cycle <= WarmUp + Cycles; cycle++)
        {
            old.Add(ContextOf(catalog));
            var (build, version) = cycle % 2 == 1 ? (ReloadablePlugin.Version2, "2.0.0.0") : (ReloadablePlugin.Version1, "1.0.0.0");
            ReloadablePlugin.Drop(folder, build);
            var plugin = (await node.RescanAsync())[ReloadablePlugin.Name];
            Assert.Equal((version, "updated"), (plugin.GetProperty("version").GetString(), plugin.GetProperty("last_reload").GetProperty("outcome").GetString()));
            if (cycle == WarmUp) warm = await SettledPrivateBytesAsync(old);
        }

        var end = await SettledPrivateBytesAsync(old);
        output.WriteLine($"private memory after {WarmUp} reloads: {warm / 1024.0 / 1024:0.0} MiB; {Cycles} reloads later: {end / 1024.0 / 1024:0.0} MiB; "
            + $"growth {(end - warm) / 1024.0 / 1024:+0.0;-0.0} MiB; {old.Count(c => !c.IsAlive)} of {old.Count} old contexts collected");
        Assert.All(old, context => Assert.False(context.IsAlive));
        Assert.True(end - warm < AllowedGrowth, $"private memory grew by {(end - warm) / 1024.0 / 1024:0.0} MiB over {Cycles} reloads");
    }

    /// <summary>The load context of the version serving now, held weakly (no reference to it stays on this frame).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(PluginCatalog catalog) =>
        new(AssemblyLoadContext.GetLoadContext(catalog.Find("reloadable")!.GetType().Assembly)!);

    /// <summary>Collects until the given contexts are gone (a context unloads over a few collections), then reads Private_* of smaps_rollup.</summary>
    private static async Task<long> SettledPrivateBytesAsync(IEnumerable<WeakReference> contexts)
    {
        await Wait.UntilAsync(() =>
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            return contexts.All(c => !c.IsAlive);
        }, "the old load contexts are collected", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return File.ReadLines("/proc/self/smaps_rollup")
            .Where(l => l.StartsWith("Private_", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture)) * 1024;
    }
}
