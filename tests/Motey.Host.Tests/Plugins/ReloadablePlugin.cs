using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Plugins;

/// <summary>The two compiled versions of Motey.TestVal.Reloadable, and dropping one into a node's plugins folder as an operator does.</summary>
internal static class ReloadablePlugin
{
    public const string Name = "Motey.TestVal.Reloadable";
    public static readonly string Version1 = Path.Combine(AppContext.BaseDirectory, "plugins", Name);
    public static readonly string Version2 = Path.Combine(AppContext.BaseDirectory, "plugin-versions", "2", Name);
    /// <summary>Version 3: its engine is named reloadable2.</summary>
    public static readonly string Renamed = Path.Combine(AppContext.BaseDirectory, "plugin-versions", "3", Name);

    /// <summary>No folder watcher: the tests that rescan themselves see exactly one scan per rescan.</summary>
    public static readonly IReadOnlyDictionary<string, string> NoWatch = new Dictionary<string, string> { ["PLUGINS:watch"] = "false" };

    public static string Folder(TestFolder node) => Path.Combine(node.Path, "plugins", Name);

    /// <summary>Copies a build over the node's plugin folder, file by file in place (<c>cp -r</c>), creating it if needed.</summary>
    public static void Drop(TestFolder node, string build)
    {
        Directory.CreateDirectory(Folder(node));
        foreach (var file in Directory.GetFiles(build))
            File.Copy(file, Path.Combine(Folder(node), Path.GetFileName(file)), overwrite: true);
    }
}

/// <summary>
/// The reloadable VAL's instances as the OS sees them: the pid its record names and that process's start time in
/// /proc. Processes still running at the end of a test are killed.
/// </summary>
internal sealed class ReloadableInstances(TestFolder node) : IAsyncDisposable
{
    private readonly string _records = Path.Combine(node.Path, "data", "plugins", "reloadable", "instances");

    /// <summary>The instance's pid and its process's start time (null when no such process runs).</summary>
    public (int Pid, string? Started) Process(string instance)
    {
        var pid = int.Parse(Value(instance, "pid"), System.Globalization.CultureInfo.InvariantCulture);
        return (pid, StartTime(pid));
    }

    /// <summary>The process runs, and is the one the record names (same start time), not a zombie.</summary>
    public bool IsAlive(string instance)
    {
        var (pid, started) = Process(instance);
        return started is not null && started == Value(instance, "started") && Stat(pid)?[0] is not ("Z" or "X");
    }

    /// <summary>The version of the plugin that created the instance.</summary>
    public string StartedBy(string instance) => Value(instance, "version");

    private string Value(string instance, string key) =>
        File.ReadAllLines(Path.Combine(_records, instance)).First(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];

    private static string? StartTime(int pid) => Stat(pid)?[19];

    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!Directory.Exists(_records)) return ValueTask.CompletedTask;
        foreach (var record in Directory.GetFiles(_records))
        {
            var instance = Path.GetFileName(record);
            if (!File.ReadAllLines(record).Any(l => l.StartsWith("pid=", StringComparison.Ordinal)) || !IsAlive(instance)) continue;
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(Process(instance).Pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // Ended meanwhile.
            }
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>The REST calls the plugin tests make.</summary>
internal static class PluginRequests
{
    public static async Task<Service> DeployAsync(this TestNode node, string yaml)
    {
        var response = await node.PostBlueprintAsync(yaml);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    public static async Task<Dictionary<string, JsonElement>> PluginsAsync(this TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!.ToDictionary(p => p.GetProperty("name").GetString()!);

    /// <summary>POST /v1/plugins/rescan: the plugins once the scan is done.</summary>
    public static async Task<Dictionary<string, JsonElement>> RescanAsync(this TestNode node)
    {
        var response = await node.Client.PostAsync("/v1/plugins/rescan", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<List<JsonElement>>())!.ToDictionary(p => p.GetProperty("name").GetString()!);
    }

    public static async Task<List<Capability>> CapabilitiesAsync(this TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;

    /// <summary>The ids GET /v1/instances lists for <paramref name="engine"/>: what its VAL's GetRunningInstancesAsync answers.</summary>
    public static async Task<List<string>> InstanceIdsAsync(this TestNode node, string engine) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/instances"))!
            .Where(i => i.GetProperty("engine").GetString() == engine).Select(i => i.GetProperty("id").GetString()!).ToList();
}
