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
    private bool _stopped;
    private (string Engine, string Because)? _replaced;

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

    /// <summary>The files last tried failed for a reason that was not theirs: the next scan tries them again.</summary>
    public void Forget()
    {
        lock (_gate) Print = null;
    }

    /// <summary>Why <paramref name="engine"/> has no VAL when this folder's new version runs another engine; else null.</summary>
    public string? Replaced(string engine)
    {
        lock (_gate) return _replaced is { } r && r.Engine == engine && State == PluginState.Active ? r.Because : null;
    }

    public void Identified(string type)
    {
        lock (_gate) Type = type;
    }

    /// <summary>
    /// Switches to <paramref name="version"/> in one step; <paramref name="retiring"/> finishes its calls meanwhile. False,
    /// and nothing changes, once the agent stops (<see cref="Stop"/>): the caller deactivates the version itself.
    /// </summary>
    public bool Serve(LoadedPlugin version, LoadedPlugin? retiring = null, DateTimeOffset at = default)
    {
        lock (_gate)
        {
            if (_stopped) return false;
            if (retiring is not null) _retiring.Add(retiring);
            if (retiring?.Type != version.Type) _engine = null;  // the new engine's health is told anew
            if (retiring is not null && retiring.Type != version.Type)
                _replaced = (retiring.Type, $"engine '{retiring.Type}' was replaced by '{version.Type}' in plugin folder {Name} at "
                    + $"{at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; its instances are adopted when a plugin for it returns");
            else if (_replaced?.Engine == version.Type) _replaced = null;
            (_serving, Type, State, _error, RemovedBecause) = (version, version.Type, PluginState.Active, null, null);
            return true;
        }
    }

    /// <summary>
    /// At stop: the versions still active (the one serving first, then those being retired), which the caller deactivates;
    /// from now on no version serves (<see cref="Serve"/> refuses) and none is retired by a scan (<see cref="Retired"/>).
    /// </summary>
    public IReadOnlyList<LoadedPlugin> Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            var active = new List<LoadedPlugin>();
            if (_serving is not null && State == PluginState.Active) active.Add(_serving);
            active.AddRange(_retiring);
            _retiring.Clear();
            if (State == PluginState.Active) State = PluginState.Deactivated;
            return active;
        }
    }

    public void Remove(DateTimeOffset at)
    {
        lock (_gate)
        {
            if (_serving is not null) _retiring.Add(_serving);
            (_serving, State, _error, _engine, Print, _replaced) = (null, PluginState.Removed, null, null, null, null);
            RemovedBecause = $"plugin folder {Name} removed at {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; its instances are adopted when it returns";
            _lastReload = new PluginReload(at, "removed", null);
        }
    }

    /// <summary>Takes a retiring version off the list; false when <see cref="Stop"/> took it first (it deactivates it).</summary>
    public bool Retired(LoadedPlugin version)
    {
        lock (_gate) return _retiring.Remove(version);
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
