using System.Collections.Concurrent;
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
/// The seed's VALManager. Loads every <c>plugins/&lt;Name&gt;/&lt;Name&gt;.dll</c> into its own load context
/// (only the contract and the logging/configuration abstractions are shared), activates it, and keeps
/// its engine registered as a <c>plugin</c> capability while it is active. A plugin that fails or hangs
/// is recorded with its error; it never stops the node.
/// </summary>
internal sealed partial class PluginCatalog(
    MoteySettings settings,
    NodeCapabilities capabilities,
    NodeIdentity identity,
    ILoggerFactory loggerFactory,
    EventHub? events = null) : IEngines
{
    // Only the contract and what its signatures expose are unified with the host. Everything else a plugin
    // ships (another YamlDotNet, another Docker.DotNet) stays its own, so PreferSharedTypes is off.
    private static readonly Type[] SharedTypes =
        [typeof(IValPlugin), typeof(ILogger), typeof(ILoggerFactory), typeof(IConfiguration), typeof(Microsoft.Extensions.Primitives.IChangeToken)];

    private readonly ILogger _log = loggerFactory.CreateLogger<PluginCatalog>();
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _byType = new(StringComparer.Ordinal);

    /// <summary>True once every plugin folder has been tried.</summary>
    public bool Loaded { get; private set; }

    public IReadOnlyList<PluginInfo> List() =>
        _entries.Values.Select(e => e.Info()).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();

    /// <summary>The active VAL for an engine, or null.</summary>
    public IValPlugin? Find(string engine) =>
        _byType.TryGetValue(engine, out var entry) && entry.State == PluginState.Active ? entry.Plugin : null;

    /// <summary>Every active VAL.</summary>
    public IReadOnlyList<IValPlugin> Active =>
        _byType.Values.Where(e => e.State == PluginState.Active && e.Plugin is not null).Select(e => e.Plugin!).ToList();

    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        var root = settings.Plugins.Path;
        if (!Directory.Exists(root))
        {
            _log.LogWarning("Plugins folder {PluginsPath} does not exist; no VAL is loaded", root);
            Loaded = true;
            return;
        }
        var folders = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToList();
        // In parallel, so one hanging plugin costs the start one timeout, not one per plugin.
        await Task.WhenAll(folders.Select(folder => LoadOneAsync(folder, cancellationToken)));
        Loaded = true;
        _log.LogInformation("Plugins loaded from {PluginsPath}: {Active} active, {Broken} not usable",
            root, _entries.Values.Count(e => e.State == PluginState.Active), _entries.Values.Count(e => e.State != PluginState.Active));
    }

    private async Task LoadOneAsync(string folder, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(folder);
        var entry = _entries[name] = new Entry(name, Path.Combine(folder, name + ".dll"));
        var timeout = settings.Plugins.ActivationTimeout;
        try
        {
            // Loading runs on the thread pool too: a static constructor can hang as well as ActivateAsync.
            var plugin = await Task.Run(() => Instantiate(entry), cancellationToken).WaitAsync(timeout, cancellationToken);
            if (!_byType.TryAdd(entry.Type!, entry))
                throw new PluginLoadException($"engine '{entry.Type}' is already provided by plugin '{_byType[entry.Type!].Name}'");

            using var activation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            activation.CancelAfter(timeout);
            await plugin.ActivateAsync(Context(entry.Type!), activation.Token).WaitAsync(timeout, cancellationToken);
            entry.Set(PluginState.Active, null);
            _log.LogInformation("Plugin {Plugin} {Version} active: engine {Engine}", name, entry.Version, entry.Type);
            events?.PluginChanged(name, entry.Type, "activated", null);
            await CheckEngineAsync(entry, cancellationToken);
        }
        catch (TimeoutException)
        {
            entry.Set(PluginState.TimedOut, $"did not load and activate within {timeout.TotalSeconds:0.###} s");
            events?.PluginChanged(name, entry.Type, "failed", entry.Info().Error);
            _log.LogError("Plugin {Plugin} did not load and activate within {Timeout}; it is not used", name, timeout);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            entry.Set(PluginState.Failed, "the agent stopped while the plugin was loading");
        }
        catch (Exception e)
        {
            // Anything a third-party plugin throws is its own failure, never the node's: record it and go on.
            var message = Describe(e);
            entry.Set(PluginState.Failed, message);
            _log.LogError(e, "Plugin {Plugin} failed: {Error}", name, message);
            events?.PluginChanged(name, entry.Type, "failed", message);
        }
    }

    private static IValPlugin Instantiate(Entry entry)
    {
        if (!File.Exists(entry.Path))
            throw new PluginLoadException($"no assembly {Path.GetFileName(entry.Path)} in the plugin folder (expected plugins/<Name>/<Name>.dll)");
        var loader = PluginLoader.CreateFromAssemblyFile(entry.Path, SharedTypes, config => config.PreferSharedTypes = false);
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
            throw new PluginLoadException($"{Path.GetFileName(entry.Path)} is not a loadable .NET assembly: {e.Message}", e);
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
        entry.Loaded(plugin, type, assembly.GetName().Version?.ToString());
        return plugin;
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
        Task.WhenAll(_entries.Values.Where(e => e.State == PluginState.Active).Select(e => CheckEngineAsync(e, cancellationToken)));

    private async Task CheckEngineAsync(Entry entry, CancellationToken cancellationToken)
    {
        EngineHealth health;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(settings.Plugins.ActivationTimeout);
            health = await entry.Plugin!.CheckEngineAsync(cts.Token).WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            health = EngineHealth.Unavailable(e is TimeoutException or OperationCanceledException
                ? $"the engine check did not answer within {settings.Plugins.ActivationTimeout.TotalSeconds:0.###} s"
                : $"the engine check failed: {Describe(e)}");
        }
        if (!entry.SetEngine(health)) return;
        if (health.IsAvailable)
        {
            await capabilities.RegisterEngineAsync(entry.Type!, cancellationToken);
            _log.LogInformation("Engine {Engine} available: capability registered", entry.Type);
            events?.PluginChanged(entry.Name, entry.Type, "engine_available", null);
        }
        else
        {
            await capabilities.WithdrawEngineAsync(entry.Type!, cancellationToken);
            _log.LogWarning("Engine {Engine} unavailable, capability withdrawn: {Problem}", entry.Type, health.Problem);
            events?.PluginChanged(entry.Name, entry.Type, "engine_unavailable", health.Problem);
        }
    }

    /// <summary>Withdraws every plugin capability, then deactivates the plugins (each within the activation timeout).</summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        var active = _entries.Values.Where(e => e.State == PluginState.Active).ToList();
        await Task.WhenAll(active.Select(async entry =>
        {
            entry.Set(PluginState.Deactivated, null);
            try
            {
                await capabilities.WithdrawEngineAsync(entry.Type!, cancellationToken);
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(settings.Plugins.ActivationTimeout);
                await entry.Plugin!.DeactivateAsync(cts.Token).WaitAsync(settings.Plugins.ActivationTimeout, cancellationToken);
                _log.LogInformation("Plugin {Plugin} deactivated", entry.Name);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Plugin {Plugin} failed to deactivate: {Error}", entry.Name, Describe(e));
            }
        }));
    }

    private static string Describe(Exception e) => e switch
    {
        PluginLoadException => e.Message,
        TargetInvocationException { InnerException: { } inner } => Describe(inner),
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    internal static partial Regex EngineName();

    private sealed class Entry(string name, string path)
    {
        private readonly Lock _gate = new();
        public string Name { get; } = name;
        public string Path { get; } = path;
        public string? Type { get; private set; }
        public string? Version { get; private set; }
        public IValPlugin? Plugin { get; private set; }
        public PluginState State { get; private set; } = PluginState.Loading;
        private string? _error;
        private EngineHealth? _engine;

        /// <summary>Records the engine's health; true when it changed (or is known for the first time).</summary>
        public bool SetEngine(EngineHealth health)
        {
            lock (_gate)
            {
                var changed = _engine?.IsAvailable != health.IsAvailable;
                _engine = health;
                return changed;
            }
        }

        public void Loaded(IValPlugin plugin, string type, string? version)
        {
            lock (_gate) (Plugin, Type, Version) = (plugin, type, version);
        }

        public void Set(PluginState state, string? error)
        {
            lock (_gate) (State, _error) = (state, error);
        }

        public PluginInfo Info()
        {
            lock (_gate)
                return new PluginInfo(Name, Type, State, _error, Path, Version,
                    State == PluginState.Active && _engine?.IsAvailable == true, State == PluginState.Active ? _engine?.Problem : null);
        }
    }
}

/// <summary>A plugin folder that does not hold a usable VAL; the message says why.</summary>
internal sealed class PluginLoadException(string message, Exception? inner = null) : Exception(message, inner);
