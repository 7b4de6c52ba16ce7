using System.Threading.Channels;
using Motey.Host.Configuration;

namespace Motey.Host.Plugins;

/// <summary>
/// Watches the plugins folder (sub-folders included) while [PLUGINS] watch is on, and rescans it once it has stayed quiet
/// for [PLUGINS] watch_debounce after a change: a plugin still being copied is not looked at before its last file is in.
/// File systems that do not notify (some network mounts) need the explicit rescan instead.
/// </summary>
internal sealed class PluginWatcher(PluginCatalog catalog, MoteySettings settings, ILogger<PluginWatcher> log) : BackgroundService
{
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var root = settings.Plugins.Path;
        if (!settings.Plugins.Watch) return;
        if (!Directory.Exists(root))
        {
            log.LogWarning("Plugins folder {PluginsPath} does not exist: not watched; create it and ask for a rescan", root);
            return;
        }
        using var watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        watcher.Created += Changed;
        watcher.Changed += Changed;
        watcher.Deleted += Changed;
        watcher.Renamed += Changed;
        // An overflowing buffer loses events: a scan finds what they were.
        watcher.Error += (_, e) =>
        {
            log.LogWarning(e.GetException(), "Watching the plugins folder lost events; it is scanned once quiet");
            _changes.Writer.TryWrite(true);
        };
        watcher.EnableRaisingEvents = true;
        log.LogInformation("Watching plugins folder {PluginsPath} (quiet period {Debounce})", root, settings.Plugins.WatchDebounce);

        while (!stoppingToken.IsCancellationRequested)
        {
            await _changes.Reader.ReadAsync(stoppingToken);
            await QuietAsync(stoppingToken);
            try
            {
                await catalog.RescanAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "Scanning the plugins folder failed; it is scanned again at its next change");
            }
        }
    }

    /// <summary>What the VALs write in their data folder, when it lies in the plugins folder, is no plugin change.</summary>
    private void Changed(object sender, FileSystemEventArgs e)
    {
        if (!catalog.HoldsData(e.FullPath) || e is RenamedEventArgs renamed && !catalog.HoldsData(renamed.OldFullPath)) _changes.Writer.TryWrite(true);
    }

    /// <summary>Returns once no change has come for the quiet period.</summary>
    private async Task QuietAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            quiet.CancelAfter(settings.Plugins.WatchDebounce);
            try
            {
                await _changes.Reader.ReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
