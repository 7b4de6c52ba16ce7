using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Configuration;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Events;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Plugins;

/// <summary>
/// The seed's VALManager, while the node runs too. Each <c>plugins/&lt;Name&gt;/</c> folder is shadow-copied under the
/// data folder and its <c>&lt;Name&gt;.dll</c> loaded from the copy into a collectible load context of its own (only the
/// contract and the logging/configuration abstractions are shared), activated, and its engine kept registered as a
/// <c>plugin</c> capability while it is active. A rescan (<see cref="RescanAsync"/>: the folder watcher, the REST call)
/// adds a new folder, loads a changed one beside the version serving and switches to it once it is active, and
/// deactivates and unloads a removed one; instances are never stopped for it. A plugin that fails or hangs is recorded
/// with its error; it never stops the node, nor replaces a version that works.
/// </summary>
internal sealed partial class PluginCatalog(
    MoteySettings settings,
    NodeCapabilities capabilities,
    NodeIdentity identity,
    ILoggerFactory loggerFactory,
    EventHub? events = null,
    TimeProvider? clock = null) : IEngines, IDisposable
{
    // Only the contract and what its signatures expose are unified with the host. Everything else a plugin
    // ships (another YamlDotNet, another Docker.DotNet) stays its own, so PreferSharedTypes is off.
    private static readonly Type[] SharedTypes =
        [typeof(IValPlugin), typeof(ILogger), typeof(ILoggerFactory), typeof(IConfiguration), typeof(Microsoft.Extensions.Primitives.IChangeToken)];

    private readonly ILogger _log = loggerFactory.CreateLogger<PluginCatalog>();
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, PluginEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PluginEntry> _byType = new(StringComparer.Ordinal);
    /// <summary>One scan at a time: two would load the same folder twice.</summary>
    private readonly SemaphoreSlim _scan = new(1, 1);
    private long _copies;
    private long _unloaded;

    /// <summary>True once every plugin folder has been tried.</summary>
    public bool Loaded { get; private set; }

    /// <summary>Where the shadow copies live: <c>plugin-cache/&lt;Name&gt;/&lt;n&gt;/</c> in the data folder.</summary>
    private string CacheRoot => Path.Combine(Path.GetDirectoryName(settings.Database.Path)!, "plugin-cache");

    public IReadOnlyList<PluginInfo> List() =>
        _entries.Values.Select(e => e.Info()).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();

    /// <summary>The active VAL for an engine, or null.</summary>
    public IValPlugin? Find(string engine) =>
        _byType.TryGetValue(engine, out var entry) ? entry.Serving?.Plugin : null;

    /// <summary>Every active VAL.</summary>
    public IReadOnlyList<IValPlugin> Active =>
        _byType.Values.Distinct().Select(e => e.Serving?.Plugin).OfType<IValPlugin>().ToList();

    /// <summary>Counts the call on the version of <paramref name="val"/>, so a replaced version waits for it before it is deactivated.</summary>
    public IDisposable? BeginCall(IValPlugin val) =>
        _entries.Values.Select(e => e.Version(val)).FirstOrDefault(v => v is not null)?.BeginCall();

    /// <summary>Why no VAL serves <paramref name="engine"/>, when its plugin folder was removed while the node ran.</summary>
    public string? Missing(string engine) =>
        _entries.Values.Where(e => e.State == PluginState.Removed && e.Type == engine).Select(e => e.RemovedBecause).FirstOrDefault();

    /// <summary>At start: the shadow copies of the last run deleted, then every plugin folder loaded.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        if (!PluginFiles.Delete(CacheRoot)) _log.LogWarning("Plugin copies of the last run in {Cache} could not be deleted", CacheRoot);
        var root = settings.Plugins.Path;
        if (!Directory.Exists(root)) _log.LogWarning("Plugins folder {PluginsPath} does not exist; no VAL is loaded", root);
        await _scan.WaitAsync(cancellationToken);
        try
        {
            await ScanAsync(initial: true, cancellationToken);
        }
        finally
        {
            _scan.Release();
        }
        Loaded = true;
        if (!TypeDescriptorCaches.Supported)
            _log.LogWarning("This .NET runtime's TypeDescriptor caches cannot be emptied; a replaced plugin that used TypeDescriptor (Docker.DotNet does) stays loaded");
        _log.LogInformation("Plugins loaded from {PluginsPath}: {Active} active, {Broken} not usable",
            root, _entries.Values.Count(e => e.State == PluginState.Active), _entries.Values.Count(e => e.State != PluginState.Active));
    }

    /// <summary>
    /// Compares every plugin folder with what is loaded and adds, updates or removes plugins to match; returns the
    /// plugins once done. A folder whose files are as they were (a touch, the same build copied again) changes nothing;
    /// one that failed is tried again only once its files change.
    /// </summary>
    public async Task<IReadOnlyList<PluginInfo>> RescanAsync(CancellationToken cancellationToken)
    {
        await _scan.WaitAsync(cancellationToken);
        try
        {
            await ScanAsync(initial: false, cancellationToken);
        }
        finally
        {
            _scan.Release();
        }
        return List();
    }

    private async Task ScanAsync(bool initial, CancellationToken cancellationToken)
    {
        var root = settings.Plugins.Path;
        var folders = Directory.Exists(root) ? Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToList() : [];
        var names = folders.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var unloaded = Volatile.Read(ref _unloaded);
        // Removals first: a plugin moved to another folder name frees its engine before the new folder claims it.
        await Task.WhenAll(_entries.Values.Where(e => !names.Contains(e.Name)).Select(e => RemoveAsync(e, cancellationToken)));
        // In parallel, so one hanging plugin costs a scan one timeout, not one per plugin.
        await Task.WhenAll(folders.Select(folder => ScanOneAsync(folder, initial, cancellationToken)));
        if (Volatile.Read(ref _unloaded) != unloaded) CollectUnloaded();
    }

    /// <summary>
    /// An unloaded context is freed only by a full collection, which an agent that allocates little runs rarely: without
    /// one, a node reloaded 240 times still mapped the assemblies of some 200 old versions. One blocking collection per
    /// scan that unloaded something; scans are rare (an operator's change).
    /// </summary>
    private static void CollectUnloaded()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private async Task ScanOneAsync(string folder, bool initial, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(folder);
        PluginFiles.Fingerprint print;
        try
        {
            print = PluginFiles.Of(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogInformation("Plugin folder {Plugin} is changing ({Error}); it is looked at again at its next change", name, e.Message);
            return;
        }
        var entry = _entries.GetOrAdd(name, n => new PluginEntry(n, Path.Combine(folder, n + ".dll")));
        if (entry.State != PluginState.Removed && entry.Print is { } last && last.Content == print.Content)
        {
            if (last.Stamps == print.Stamps) return;
            entry.Tried(print);
            entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "unchanged", null));
            _log.LogInformation("Plugin folder {Plugin} was touched; its files are the same, nothing is reloaded", name);
            return;
        }
        entry.Tried(print);
        if (entry.Serving is { } serving) await UpdateAsync(entry, serving, print, cancellationToken);
        else await AddAsync(entry, print, initial, cancellationToken);
    }

    private async Task AddAsync(PluginEntry entry, PluginFiles.Fingerprint print, bool initial, CancellationToken cancellationToken)
    {
        entry.Set(PluginState.Loading, null);
        LoadedPlugin? loaded = null;
        try
        {
            loaded = await LoadAsync(entry, print, cancellationToken);
            Claim(entry, loaded.Type);
            await ActivateAsync(loaded, cancellationToken);
            entry.Serve(loaded);
            _log.LogInformation("Plugin {Plugin} {Version} {Change}: engine {Engine}", entry.Name, loaded.Version, initial ? "active" : "added", loaded.Type);
            events?.PluginChanged(entry.Name, loaded.Type, initial ? "activated" : "added", null);
            if (!initial) entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "added", null));
            await CheckEngineAsync(entry, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (loaded is not null) Discard(entry, loaded);
            var (state, message) = Failure(e);
            entry.Set(state, message);
            _log.LogError(e is PluginLoadException or TimeoutException ? null : e, "Plugin {Plugin} is not used: {Error}", entry.Name, message);
            events?.PluginChanged(entry.Name, entry.Type, "failed", message);
            if (!initial) entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "failed", message));
        }
        catch (OperationCanceledException)
        {
            if (loaded is not null) Discard(entry, loaded);
            entry.Set(PluginState.Failed, "the agent stopped while the plugin was loading");
        }
    }

    /// <summary>
    /// The new version is loaded and activated beside the one serving (same data folder), then takes over; the old one is
    /// deactivated once its running calls are done and unloaded. A new version that fails is unloaded, and the old one serves on.
    /// </summary>
    private async Task UpdateAsync(PluginEntry entry, LoadedPlugin old, PluginFiles.Fingerprint print, CancellationToken cancellationToken)
    {
        LoadedPlugin? fresh = null;
        try
        {
            fresh = await LoadAsync(entry, print, cancellationToken);
            // Another engine in the folder: the old one goes as if removed once the new one is active.
            if (fresh.Type != old.Type) Claim(entry, fresh.Type);
            await ActivateAsync(fresh, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (fresh is not null) Discard(entry, fresh);
            var (_, message) = Failure(e);
            entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "failed", message));
            _log.LogError("Plugin {Plugin}: the new version is not used ({Error}); version {Version} keeps serving", entry.Name, message, old.Version);
            events?.PluginChanged(entry.Name, old.Type, "update_failed", message);
            return;
        }
        catch (OperationCanceledException)
        {
            if (fresh is not null) Discard(entry, fresh);
            throw;
        }

        entry.Serve(fresh, retiring: old);
        entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "updated", null));
        _log.LogInformation("Plugin {Plugin} updated from {OldVersion} to {Version}: engine {Engine}", entry.Name, old.Version, fresh.Version, fresh.Type);
        events?.PluginChanged(entry.Name, fresh.Type, "updated", old.Type == fresh.Type ? null : $"engine '{old.Type}' replaced by '{fresh.Type}'");
        if (old.Type != fresh.Type)
        {
            _byType.TryRemove(new KeyValuePair<string, PluginEntry>(old.Type, entry));
            await capabilities.WithdrawEngineAsync(old.Type, cancellationToken);
        }
        await CheckEngineAsync(entry, cancellationToken);
        await RetireAsync(entry, old);
    }

    /// <summary>A folder that is gone: its capability withdrawn, its VAL deactivated and unloaded; its instances keep running.</summary>
    private async Task RemoveAsync(PluginEntry entry, CancellationToken cancellationToken)
    {
        var old = entry.Serving;
        if (old is null)
        {
            // Nothing was loaded from it (it had failed, or was removed before): nothing to report any more.
            if (entry.State != PluginState.Removed) _entries.TryRemove(new KeyValuePair<string, PluginEntry>(entry.Name, entry));
            return;
        }
        var at = _clock.GetUtcNow();
        entry.Remove(at);
        _byType.TryRemove(new KeyValuePair<string, PluginEntry>(old.Type, entry));
        await capabilities.WithdrawEngineAsync(old.Type, cancellationToken);
        _log.LogWarning("Plugin folder {Plugin} removed: engine {Engine} withdrawn; its instances keep running and are adopted when it returns",
            entry.Name, old.Type);
        events?.PluginChanged(entry.Name, old.Type, "removed", entry.RemovedBecause);
        await RetireAsync(entry, old);
    }

    /// <summary>The engine's claim: one plugin per engine.</summary>
    private void Claim(PluginEntry entry, string type)
    {
        var holder = _byType.GetOrAdd(type, entry);
        if (holder != entry) throw new PluginLoadException($"engine '{type}' is already provided by plugin '{holder.Name}'");
    }

    /// <summary>A version that never served: its claim (if it made one) released and its context unloaded.</summary>
    private void Discard(PluginEntry entry, LoadedPlugin loaded)
    {
        if (entry.Serving?.Type != loaded.Type) _byType.TryRemove(new KeyValuePair<string, PluginEntry>(loaded.Type, entry));
        loaded.Unload();
    }

    /// <summary>
    /// Deactivates a version that no longer serves, once the calls running on it are done (at most the activation timeout),
    /// and unloads it.
    /// </summary>
    private async Task RetireAsync(PluginEntry entry, LoadedPlugin old)
    {
        var timeout = settings.Plugins.ActivationTimeout;
        var until = _clock.GetUtcNow() + timeout;
        while (!old.Idle && _clock.GetUtcNow() < until) await Task.Delay(TimeSpan.FromMilliseconds(50), _clock);
        if (!old.Idle) _log.LogWarning("Plugin {Plugin} {Version}: calls still run after {Timeout}; deactivated all the same", entry.Name, old.Version, timeout);
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            await old.Plugin.DeactivateAsync(cts.Token).WaitAsync(timeout);
            _log.LogInformation("Plugin {Plugin} {Version} deactivated and unloaded", entry.Name, old.Version);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Plugin {Plugin} {Version} failed to deactivate: {Error}; unloaded all the same", entry.Name, old.Version, Describe(e));
        }
        entry.Retired(old);
        old.Unload();
        Interlocked.Increment(ref _unloaded);
    }

    /// <summary>The folder's shadow copy, loaded and instantiated within the activation timeout.</summary>
    private async Task<LoadedPlugin> LoadAsync(PluginEntry entry, PluginFiles.Fingerprint print, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(entry.Path)!;
        var copy = Path.Combine(CacheRoot, entry.Name, Interlocked.Increment(ref _copies).ToString(CultureInfo.InvariantCulture));
        if (!PluginFiles.TryCopy(folder, copy, print))
            throw new PluginLoadException("the plugin folder changed while it was being copied; it is loaded once its files stop changing");
        // On the thread pool: a static constructor can hang as well as ActivateAsync.
        var loading = Task.Run(() => Instantiate(entry.Name, copy), cancellationToken);
        try
        {
            var loaded = await loading.WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
            entry.Identified(loaded.Type);
            return loaded;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Unloaded whenever it finishes, if ever.
            _ = loading.ContinueWith(t => t.Result.Unload(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    private async Task ActivateAsync(LoadedPlugin loaded, CancellationToken cancellationToken)
    {
        var timeout = settings.Plugins.ActivationTimeout;
        using var activation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        activation.CancelAfter(timeout);
        await loaded.Plugin.ActivateAsync(Context(loaded.Type), activation.Token).WaitAsync(timeout, cancellationToken);
    }

    private LoadedPlugin Instantiate(string name, string copy)
    {
        var path = Path.Combine(copy, name + ".dll");
        if (!File.Exists(path))
        {
            PluginFiles.Delete(copy);
            throw new PluginLoadException($"no assembly {name}.dll in the plugin folder (expected plugins/<Name>/<Name>.dll)");
        }
        var loader = PluginLoader.CreateFromAssemblyFile(path, SharedTypes, config =>
        {
            config.PreferSharedTypes = false;
            config.IsUnloadable = true;
        });
        try
        {
            Assembly assembly;
            Type[] types;
            try
            {
                assembly = loader.LoadDefaultAssembly();
                // Before any of its types loads: an incompatible contract is refused here, not at the plugin's first call.
                ContractVersion.EnsureCompatible(assembly);
                types = assembly.GetExportedTypes();
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException or ReflectionTypeLoadException or FileNotFoundException)
            {
                throw new PluginLoadException($"{name}.dll is not a loadable .NET assembly: {e.Message}", e);
            }
            var candidates = types.Where(t => typeof(IValPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
            if (candidates.Count != 1)
                throw new PluginLoadException(candidates.Count == 0
                    ? $"{assembly.GetName().Name} has no public class implementing {nameof(IValPlugin)}"
                    : $"{assembly.GetName().Name} has {candidates.Count} classes implementing {nameof(IValPlugin)}; expected one");
            var plugin = (IValPlugin)(Activator.CreateInstance(candidates[0])
                ?? throw new PluginLoadException($"{candidates[0].FullName} could not be created"));
            var type = plugin.PluginType;
            if (type is null || !EngineName().IsMatch(type))
                throw new PluginLoadException($"plugin type '{type}' is not a valid engine name (lower case letters, digits, '_', '.', '-')");
            return new LoadedPlugin(loader, plugin, type, assembly.GetName().Version?.ToString(), copy, _clock.GetUtcNow());
        }
        catch
        {
            loader.Dispose();
            PluginFiles.Delete(copy);
            throw;
        }
    }

    private ValContext Context(string type)
    {
        var dataDirectory = Path.Combine(Path.GetDirectoryName(settings.Database.Path)!, "plugins", type);
        Directory.CreateDirectory(dataDirectory);
        return new ValContext
        {
            Settings = settings.Raw.GetSection(type.ToUpperInvariant()),
            LoggerFactory = loggerFactory,
            DataDirectory = dataDirectory,
            NodeAddress = identity.Address,
        };
    }

    /// <summary>Asks every active VAL whether its engine answers, and keeps its plugin capability in step.</summary>
    public Task CheckEnginesAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_entries.Values.Where(e => e.Serving is not null).Select(e => CheckEngineAsync(e, cancellationToken)));

    private async Task CheckEngineAsync(PluginEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Serving is not { } serving) return;
        EngineHealth health;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(settings.Plugins.ActivationTimeout);
            using (BeginCall(serving.Plugin))
                health = await serving.Plugin.CheckEngineAsync(cts.Token).WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            health = EngineHealth.Unavailable(e is TimeoutException or OperationCanceledException
                ? $"the engine check did not answer within {settings.Plugins.ActivationTimeout.TotalSeconds:0.###} s"
                : $"the engine check failed: {Describe(e)}");
        }
        // A version that stopped serving meanwhile (removed, replaced) says nothing about the capability any more.
        if (entry.Serving != serving || !entry.SetEngine(health)) return;
        if (health.IsAvailable)
        {
            await capabilities.RegisterEngineAsync(serving.Type, cancellationToken);
            _log.LogInformation("Engine {Engine} available: capability registered", serving.Type);
            events?.PluginChanged(entry.Name, serving.Type, "engine_available", null);
        }
        else
        {
            await capabilities.WithdrawEngineAsync(serving.Type, cancellationToken);
            _log.LogWarning("Engine {Engine} unavailable, capability withdrawn: {Problem}", serving.Type, health.Problem);
            events?.PluginChanged(entry.Name, serving.Type, "engine_unavailable", health.Problem);
        }
    }

    /// <summary>
    /// At stop: waits for a scan under way (at most the activation timeout), withdraws every plugin capability, then
    /// deactivates the plugins (each within the activation timeout).
    /// </summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        var scanning = !await _scan.WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
        if (scanning) _log.LogWarning("A plugin scan still runs at stop; plugins are deactivated all the same");
        var active = _entries.Values.Select(e => (Entry: e, Version: e.Serving)).Where(x => x.Version is not null).ToList();
        await Task.WhenAll(active.Select(async x =>
        {
            x.Entry.Set(PluginState.Deactivated, null);
            try
            {
                await capabilities.WithdrawEngineAsync(x.Version!.Type, cancellationToken);
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(settings.Plugins.ActivationTimeout);
                await x.Version.Plugin.DeactivateAsync(cts.Token).WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
                _log.LogInformation("Plugin {Plugin} deactivated", x.Entry.Name);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Plugin {Plugin} failed to deactivate: {Error}", x.Entry.Name, Describe(e));
            }
        }));
    }

    private (PluginState State, string Message) Failure(Exception e) => e is TimeoutException
        ? (PluginState.TimedOut, $"did not load and activate within {settings.Plugins.ActivationTimeout.TotalSeconds:0.###} s")
        : (PluginState.Failed, Describe(e));

    private static string Describe(Exception e) => e switch
    {
        PluginLoadException => e.Message,
        TargetInvocationException { InnerException: { } inner } => Describe(inner),
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    public void Dispose() => _scan.Dispose();

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    internal static partial Regex EngineName();
}

/// <summary>A plugin folder that does not hold a usable VAL; the message says why.</summary>
internal sealed class PluginLoadException(string message, Exception? inner = null) : Exception(message, inner);
