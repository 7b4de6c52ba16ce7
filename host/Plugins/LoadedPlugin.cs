using System.Runtime.Loader;
using McMaster.NETCore.Plugins;
using Motey.Abstractions;

namespace Motey.Host.Plugins;

/// <summary>
/// One version of a plugin: its VAL, loaded from its shadow copy into a collectible load context of its own, and the
/// calls running on it, so that a version being replaced is deactivated only once they are done.
/// </summary>
internal sealed class LoadedPlugin(PluginLoader loader, IValPlugin plugin, string type, string? version, string copy, DateTimeOffset loadedAt)
{
    private int _calls;

    public IValPlugin Plugin { get; } = plugin;
    public string Type { get; } = type;
    public string? Version { get; } = version;
    /// <summary>The shadow copy it was loaded from.</summary>
    public string Copy { get; } = copy;
    public DateTimeOffset LoadedAt { get; } = loadedAt;

    /// <summary>True while no call counted by <see cref="BeginCall"/> runs on this version.</summary>
    public bool Idle => Volatile.Read(ref _calls) == 0;

    /// <summary>Counts a call into this version until the result is disposed.</summary>
    public IDisposable BeginCall()
    {
        Interlocked.Increment(ref _calls);
        return new Call(this);
    }

    /// <summary>
    /// Makes the shared <see cref="System.ComponentModel.TypeDescriptor"/> forget its types (see
    /// <see cref="TypeDescriptorCaches"/>), disposes the loader, so its context unloads as soon as nothing refers to its
    /// types any more, and deletes the shadow copy (Linux lets a mapped file be deleted; elsewhere it is left for the next
    /// start). The caller drops every reference it keeps to this version.
    /// </summary>
    public void Unload()
    {
        if (AssemblyLoadContext.GetLoadContext(Plugin.GetType().Assembly) is { } context) TypeDescriptorCaches.Forget(context);
        loader.Dispose();
        PluginFiles.Delete(Copy);
    }

    private sealed class Call(LoadedPlugin version) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) Interlocked.Decrement(ref version._calls);
        }
    }
}
