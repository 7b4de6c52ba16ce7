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
    /// <summary>
    /// Scans run on this token, never on a caller's: a REST client that leaves must not break a plugin half added. Cancelled
    /// only when the agent stops (<see cref="DeactivateAllAsync"/>).
    /// </summary>
    private readonly CancellationTokenSource _stopping = new();
    /// <summary>Held while an engine claim changes hands, so that a claim and the switch of the version serving are one step.</summary>
    private readonly Lock _claims = new();
    private long _copies;
    private long _unloaded;

    /// <summary>True once every plugin folder has been tried.</summary>
    public bool Loaded { get; private set; }

    /// <summary>The VALs' data folders handed out (and found from earlier runs): what the VALs write there is no plugin change.</summary>
    private readonly ConcurrentDictionary<string, bool> _dataFolders = new(StringComparer.Ordinal);

    /// <summary>
    /// True when <paramref name="path"/> is the agent's own: the database, a shadow copy, a VAL's data folder, or a folder
    /// holding one of them. With the data folder inside the plugins folder, these are not plugins, and the watcher must
    /// not rescan for every line an instance writes.
    /// </summary>
    internal bool HoldsData(string path)
    {
        var full = Full(path);
        if (full.StartsWith(_fullDatabasePath, StringComparison.Ordinal)) return true;  // motey.db, -wal, -shm
        if (Within(full, _fullCacheRoot) || Within(_fullCacheRoot, full)) return true;
        foreach (var (data, _) in _dataFolders)  // enumerated without the dictionary's locks or a copy: once per file event
        {
            if (Within(full, data) || Within(data, full)) return true;
        }
        return false;
    }

    /// <summary>The database's and the shadow copies' full paths, made once: <see cref="HoldsData"/> runs for every file event.</summary>
    private readonly string _fullDatabasePath = Full(settings.Database.Path);
    private readonly string _fullCacheRoot = Full(CacheRootOf(settings.Database.Path));

    private static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static bool Within(string path, string folder) =>
        path == folder || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Where the VALs' data folders live: <c>plugins/&lt;engine&gt;/</c> in the data folder.</summary>
    private string ValDataRoot => Path.Combine(Path.GetDirectoryName(settings.Database.Path)!, "plugins");

    /// <summary>Where the shadow copies live: <c>plugin-cache/&lt;Name&gt;/&lt;n&gt;/</c> in the data folder.</summary>
    private string CacheRoot => CacheRootOf(settings.Database.Path);

    private static string CacheRootOf(string databasePath) => Path.Combine(Path.GetDirectoryName(databasePath)!, "plugin-cache");

    public IReadOnlyList<PluginInfo> List() =>
        _entries.Values.Select(e => e.Info()).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// The active VAL for an engine, or null. Only a version that runs this engine is returned: while a folder changes its
    /// engine name, its other version is never handed out for it.
    /// </summary>
    public IValPlugin? Find(string engine) =>
        _byType.TryGetValue(engine, out var entry) && entry.Serving is { } serving && serving.Type == engine ? serving.Plugin : null;

    /// <summary>Every active VAL.</summary>
    public IReadOnlyList<IValPlugin> Active =>
        _byType.Values.Distinct().Select(e => e.Serving?.Plugin).OfType<IValPlugin>().ToList();

    /// <summary>Counts the call on the version of <paramref name="val"/>, so a replaced version waits for it before it is deactivated.</summary>
    public IDisposable? BeginCall(IValPlugin val) =>
        _entries.Values.Select(e => e.Version(val)).FirstOrDefault(v => v is not null)?.BeginCall();

    /// <summary>Why no VAL serves <paramref name="engine"/>, when its plugin folder was removed while the node ran.</summary>
    public string? Missing(string engine) =>
        _entries.Values.Where(e => e.State == PluginState.Removed && e.Type == engine).Select(e => e.RemovedBecause)
            .Concat(_entries.Values.Select(e => e.Replaced(engine)))
            .FirstOrDefault(why => why is not null);

    /// <summary>At start: the shadow copies of the last run deleted, then every plugin folder loaded.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        if (!PluginFiles.Delete(CacheRoot)) _log.LogWarning("Plugin copies of the last run in {Cache} could not be deleted", CacheRoot);
        var root = settings.Plugins.Path;
        if (!Directory.Exists(root)) _log.LogWarning("Plugins folder {PluginsPath} does not exist; no VAL is loaded", root);
        if (Directory.Exists(ValDataRoot))
            foreach (var data in Directory.GetDirectories(ValDataRoot)) _dataFolders.TryAdd(Full(data), true);
        await _scan.WaitAsync(cancellationToken);
        try
        {
            using var scan = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            await ScanAsync(initial: true, scan.Token);
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
    /// one whose files could not be loaded is tried again only once they change; one that failed for a passing reason (a
    /// timeout, a failed activation, the agent stopping) is tried again at the next scan. The scan runs on the catalog's
    /// own token: <paramref name="cancellationToken"/> only ends the wait for it (a client that leaves), never the scan.
    /// </summary>
    public Task<IReadOnlyList<PluginInfo>> RescanAsync(CancellationToken cancellationToken) =>
        Task.Run(RescanOwnAsync, CancellationToken.None).WaitAsync(cancellationToken);

    private async Task<IReadOnlyList<PluginInfo>> RescanOwnAsync()
    {
        await _scan.WaitAsync(_stopping.Token);
        try
        {
            await ScanAsync(initial: false, _stopping.Token);
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
        // A dot-folder is a plugin being dropped (copied beside, then renamed into place); the data folder, when it lies in
        // the plugins folder, is no plugin.
        var folders = Directory.Exists(root)
            ? Directory.GetDirectories(root).Where(f => !Path.GetFileName(f).StartsWith('.') && !HoldsData(f)).Order(StringComparer.Ordinal).ToList()
            : [];
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
        var activating = false;
        try
        {
            loaded = await LoadAsync(entry, print, cancellationToken);
            lock (_claims) Claim(entry, loaded.Type);
            activating = true;
            await ActivateAsync(loaded, cancellationToken);
            if (!entry.Serve(loaded)) throw new OperationCanceledException(_stopping.Token);
        }
        catch (Exception e)
        {
            if (loaded is not null) await ScrapAsync(entry, loaded, activating);
            if (Passing(e)) entry.Forget();
            if (_stopping.IsCancellationRequested)
            {
                entry.Set(PluginState.Failed, "the agent stopped while the plugin was loading");
                return;
            }
            var (state, message) = Failure(e);
            entry.Set(state, message);
            _log.LogError(e is PluginLoadException or TimeoutException ? null : e, "Plugin {Plugin} is not used: {Error}", entry.Name, message);
            events?.PluginChanged(entry.Name, entry.Type, "failed", message);
            if (!initial) entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "failed", message));
            return;
        }
        // Serving from here on: whatever happens next, it is retired (or deactivated at stop), never discarded.
        _log.LogInformation("Plugin {Plugin} {Version} {Change}: engine {Engine}", entry.Name, loaded.Version, initial ? "active" : "added", loaded.Type);
        events?.PluginChanged(entry.Name, loaded.Type, initial ? "activated" : "added", null);
        if (!initial) entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "added", null));
        try
        {
            await CheckEngineAsync(entry, cancellationToken);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The agent stops: the capability goes with every other one.
        }
    }

    /// <summary>
    /// The new version is loaded and activated beside the one serving (same data folder), then takes over; the old one is
    /// deactivated once its running calls are done and unloaded. A new version that fails is deactivated and unloaded, and
    /// the old one serves on. A new engine name is claimed in the same step as the switch, and the old engine's claim
    /// dropped in it, so that <see cref="Find"/> never hands out one engine's VAL for the other.
    /// </summary>
    private async Task UpdateAsync(PluginEntry entry, LoadedPlugin old, PluginFiles.Fingerprint print, CancellationToken cancellationToken)
    {
        LoadedPlugin? fresh = null;
        var activating = false;
        try
        {
            fresh = await LoadAsync(entry, print, cancellationToken);
            // Another engine in the folder: refused at once when another plugin has it (claimed only at the switch).
            if (fresh.Type != old.Type && _byType.TryGetValue(fresh.Type, out var holder) && holder != entry)
                throw new PluginLoadException($"engine '{fresh.Type}' is already provided by plugin '{holder.Name}'", passing: true);
            activating = true;
            await ActivateAsync(fresh, cancellationToken);
            bool served;
            lock (_claims)
            {
                if (fresh.Type != old.Type) Claim(entry, fresh.Type);
                served = entry.Serve(fresh, retiring: old, at: _clock.GetUtcNow());
                if (fresh.Type != old.Type)
                    _byType.TryRemove(new KeyValuePair<string, PluginEntry>(served ? old.Type : fresh.Type, entry));
            }
            if (!served) throw new OperationCanceledException(_stopping.Token);
        }
        catch (Exception e)
        {
            if (fresh is not null) await ScrapAsync(entry, fresh, activating);
            if (Passing(e)) entry.Forget();
            if (_stopping.IsCancellationRequested) return;
            var (_, message) = Failure(e);
            entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "failed", message));
            _log.LogError("Plugin {Plugin}: the new version is not used ({Error}); version {Version} keeps serving", entry.Name, message, old.Version);
            events?.PluginChanged(entry.Name, old.Type, "update_failed", message);
            return;
        }

        entry.Reloaded(new PluginReload(_clock.GetUtcNow(), "updated", null));
        _log.LogInformation("Plugin {Plugin} updated from {OldVersion} to {Version}: engine {Engine}", entry.Name, old.Version, fresh.Version, fresh.Type);
        events?.PluginChanged(entry.Name, fresh.Type, "updated", old.Type == fresh.Type ? null : $"engine '{old.Type}' replaced by '{fresh.Type}'");
        try
        {
            if (old.Type != fresh.Type)
            {
                await capabilities.WithdrawEngineAsync(old.Type, cancellationToken);
                events?.PluginChanged(entry.Name, old.Type, "removed", entry.Replaced(old.Type));
            }
            await CheckEngineAsync(entry, cancellationToken);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The agent stops: every capability goes, and the old version is deactivated with the others.
        }
        finally
        {
            await RetireAsync(entry, old);
        }
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
        lock (_claims) _byType.TryRemove(new KeyValuePair<string, PluginEntry>(old.Type, entry));
        _log.LogWarning("Plugin folder {Plugin} removed: engine {Engine} withdrawn; its instances keep running and are adopted when it returns",
            entry.Name, old.Type);
        events?.PluginChanged(entry.Name, old.Type, "removed", entry.RemovedBecause);
        try
        {
            await capabilities.WithdrawEngineAsync(old.Type, cancellationToken);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The agent stops: every capability goes.
        }
        finally
        {
            await RetireAsync(entry, old);
        }
    }

    /// <summary>The engine's claim: one plugin per engine (under <see cref="_claims"/>).</summary>
    private void Claim(PluginEntry entry, string type)
    {
        var holder = _byType.GetOrAdd(type, entry);
        // Passing: the other folder may be giving the engine up in this very scan (two folders swapping names).
        if (holder != entry) throw new PluginLoadException($"engine '{type}' is already provided by plugin '{holder.Name}'", passing: true);
    }

    /// <summary>
    /// A version that never served: deactivated if its activation was attempted (a timer it started would keep its context
    /// alive), its claim (if it made one) released and its context unloaded.
    /// </summary>
    private async Task ScrapAsync(PluginEntry entry, LoadedPlugin loaded, bool activated)
    {
        if (activated) await DeactivateAsync(entry, loaded);
        lock (_claims)
            if (entry.Serving?.Type != loaded.Type) _byType.TryRemove(new KeyValuePair<string, PluginEntry>(loaded.Type, entry));
        Unload(loaded);
    }

    /// <summary>Unloads a version's context and counts it, so the next scan's end collects it.</summary>
    private void Unload(LoadedPlugin version)
    {
        version.Unload();
        Interlocked.Increment(ref _unloaded);
    }

    /// <summary>Deactivates a version within the activation timeout; a failure is logged, never thrown.</summary>
    private async Task DeactivateAsync(PluginEntry entry, LoadedPlugin version)
    {
        var timeout = settings.Plugins.ActivationTimeout;
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            await version.Plugin.DeactivateAsync(cts.Token).WaitAsync(timeout);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Plugin {Plugin} {Version} failed to deactivate: {Error}", entry.Name, version.Version, Describe(e));
        }
    }

    /// <summary>
    /// A failure that says nothing about the files (a timeout, a cancellation, a failed activation, an engine still held
    /// by another folder, a copy of a folder that was changing): the same files are tried again at the next scan.
    /// </summary>
    private static bool Passing(Exception e) => e is not PluginLoadException { Passing: false };

    /// <summary>
    /// Deactivates a version that no longer serves, once the calls running on it are done (at most the activation timeout),
    /// and unloads it.
    /// </summary>
    private async Task RetireAsync(PluginEntry entry, LoadedPlugin old)
    {
        var timeout = settings.Plugins.ActivationTimeout;
        var until = _clock.GetUtcNow() + timeout;
        while (!old.Idle && !_stopping.IsCancellationRequested && _clock.GetUtcNow() < until) await Task.Delay(TimeSpan.FromMilliseconds(50), _clock);
        // At stop, DeactivateAllAsync may have taken it already: it is deactivated once, by whoever takes it.
        if (!entry.Retired(old)) return;
        if (!old.Idle) _log.LogWarning("Plugin {Plugin} {Version}: calls still run after {Timeout}; deactivated all the same", entry.Name, old.Version, timeout);
        await DeactivateAsync(entry, old);
        _log.LogInformation("Plugin {Plugin} {Version} deactivated and unloaded", entry.Name, old.Version);
        Unload(old);
    }

    /// <summary>The folder's shadow copy, loaded and instantiated within the activation timeout.</summary>
    private async Task<LoadedPlugin> LoadAsync(PluginEntry entry, PluginFiles.Fingerprint print, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(entry.Path)!;
        // A leftover of the last run (its delete failed at start) is never written over: its extra files would fail the check.
        string copy;
        do copy = Path.Combine(CacheRoot, entry.Name, Interlocked.Increment(ref _copies).ToString(CultureInfo.InvariantCulture));
        while (Directory.Exists(copy));
        if (!PluginFiles.TryCopy(folder, copy, print))
            throw new PluginLoadException("the plugin folder changed while it was being copied, or a file in it could not be read; it is tried again at the next scan", passing: true);
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
            // Not McMaster's default walk, which loads every assembly the shared ones reference, and theirs, into the
            // agent only to learn their names (Linq.Expressions, Reflection.Emit and .Metadata, IO.Compression,
            // Formats.Asn1, ...: 2.8 MiB resident that an idle node never uses). Lazily, the shared assemblies and those
            // they reference directly are the host's from the start (every type the contract's signatures name is in
            // one of them), and a deeper one once the plugin has loaded an assembly that references it; only a plugin
            // shipping its own copy of a framework assembly deeper than that would keep its copy where the walk would
            // have given it the host's.
            config.IsLazyLoaded = true;
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
        var dataDirectory = Path.Combine(ValDataRoot, type);
        _dataFolders.TryAdd(Full(dataDirectory), true);
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
    /// At stop: cancels a scan under way and waits for it (at most the activation timeout), withdraws every plugin
    /// capability, then deactivates every version still active, the serving ones and those being retired (each within the
    /// activation timeout). A scan that finishes later cannot make a version serve any more.
    /// </summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        var scanning = !await _scan.WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
        if (scanning) _log.LogWarning("A plugin scan still runs at stop; plugins are deactivated all the same");
        var active = _entries.Values.Select(e => (Entry: e, Versions: e.Stop())).Where(x => x.Versions.Count > 0).ToList();
        await Task.WhenAll(active.Select(async x =>
        {
            try
            {
                await capabilities.WithdrawEngineAsync(x.Versions[0].Type, cancellationToken);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Engine {Engine} could not be withdrawn at stop: {Error}", x.Versions[0].Type, Describe(e));
            }
            foreach (var version in x.Versions) await DeactivateAsync(x.Entry, version);
            _log.LogInformation("Plugin {Plugin} deactivated", x.Entry.Name);
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

    public void Dispose()
    {
        _scan.Dispose();
        _stopping.Dispose();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    internal static partial Regex EngineName();
}

/// <summary>A plugin folder that does not hold a usable VAL; the message says why.</summary>
/// <param name="passing">True when the files are not to blame (see <c>Passing</c> in the catalog): tried again at the next scan.</param>
internal sealed class PluginLoadException(string message, Exception? inner = null, bool passing = false) : Exception(message, inner)
{
    public bool Passing { get; } = passing;
}
