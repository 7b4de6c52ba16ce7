using Motey.Abstractions;

namespace Motey.Host.Plugins;

/// <summary>
/// One plugin folder as the catalog knows it: the version serving (at most one), the versions being retired (still
/// finishing calls), its state, the fingerprint of the files last tried, and the last reload's outcome.
/// </summary>
internal sealed class PluginEntry(string name, string path)
{
    private readonly Lock _gate = new();
    private LoadedPlugin? _serving;
    private readonly List<LoadedPlugin> _retiring = [];
    private string? _error;
    private EngineHealth? _engine;
    private PluginReload? _lastReload;

    public string Name { get; } = name;
    /// <summary>The operator's <c>plugins/&lt;Name&gt;/&lt;Name&gt;.dll</c> (never loaded itself: see <see cref="PluginFiles"/>).</summary>
    public string Path { get; } = path;
    /// <summary>The engine it runs, once known; kept after a removal, for the message of the instances left without it.</summary>
    public string? Type { get; private set; }
    public PluginState State { get; private set; } = PluginState.Loading;
    /// <summary>The files last tried (loaded, or failed): a folder is tried again only when they change.</summary>
    public PluginFiles.Fingerprint? Print { get; private set; }
    /// <summary>Why the engine has no VAL, while the folder is removed.</summary>
    public string? RemovedBecause { get; private set; }

    /// <summary>The version that serves the engine while the plugin is active.</summary>
    public LoadedPlugin? Serving
    {
        get
        {
            lock (_gate) return State == PluginState.Active ? _serving : null;
        }
    }

    /// <summary>The serving or retiring version whose VAL is <paramref name="plugin"/>.</summary>
    public LoadedPlugin? Version(IValPlugin plugin)
    {
        lock (_gate)
            return ReferenceEquals(_serving?.Plugin, plugin) ? _serving : _retiring.FirstOrDefault(v => ReferenceEquals(v.Plugin, plugin));
    }

    public void Tried(PluginFiles.Fingerprint print)
    {
        lock (_gate) Print = print;
    }

    public void Identified(string type)
    {
        lock (_gate) Type = type;
    }

    /// <summary>Switches to <paramref name="version"/> in one step; <paramref name="retiring"/> finishes its calls meanwhile.</summary>
    public void Serve(LoadedPlugin version, LoadedPlugin? retiring = null)
    {
        lock (_gate)
        {
            if (retiring is not null) _retiring.Add(retiring);
            if (retiring?.Type != version.Type) _engine = null;  // the new engine's health is told anew
            (_serving, Type, State, _error, RemovedBecause) = (version, version.Type, PluginState.Active, null, null);
        }
    }

    public void Remove(DateTimeOffset at)
    {
        lock (_gate)
        {
            if (_serving is not null) _retiring.Add(_serving);
            (_serving, State, _error, _engine, Print) = (null, PluginState.Removed, null, null, null);
            RemovedBecause = $"plugin folder {Name} removed at {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; its instances are adopted when it returns";
            _lastReload = new PluginReload(at, "removed", null);
        }
    }

    public void Retired(LoadedPlugin version)
    {
        lock (_gate) _retiring.Remove(version);
    }

    public void Reloaded(PluginReload reload)
    {
        lock (_gate) _lastReload = reload;
    }

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

    public void Set(PluginState state, string? error)
    {
        lock (_gate) (State, _error) = (state, error);
    }

    public PluginInfo Info()
    {
        lock (_gate)
        {
            var active = State == PluginState.Active;
            return new PluginInfo(Name, Type, State, _error, Path, _serving?.Version, active && _engine?.IsAvailable == true,
                active ? _engine?.Problem : null, _serving?.LoadedAt, _lastReload);
        }
    }
}
