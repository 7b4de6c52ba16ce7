using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Motey.Abstractions;

namespace Motey.TestVal;

/// <summary>
/// A VAL whose instances are real OS processes (<c>sleep</c>, detached from the agent), recorded in the plugin's data
/// folder: any version of this plugin finds them again, so the tests of a plugin replaced while the node runs can judge
/// "the same process" by its pid and start time. Built twice (this project as 1.0.0.0, Motey.TestVal.Reloadable.V2 as
/// 2.0.0.0) under the same assembly name. Each instance's record says which version started it.
/// </summary>
public sealed class ReloadableVal : IValPlugin
{
    private static readonly string Version = typeof(ReloadableVal).Assembly.GetName().Version!.ToString();
    private string _instances = "";

#if RENAMED
    public string PluginType => "reloadable2";  // version 3: the folder's engine renamed
#else
    public string PluginType => "reloadable";
#endif

    public Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        _instances = Path.Combine(context.DataDirectory, "instances");
        Directory.CreateDirectory(_instances);
        return Task.CompletedTask;
    }

    public Task DeactivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters) => [];
    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken) => Task.FromResult(true);
    public Task LoadImageAsync(string imageName, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var lines = new List<string> { "image=" + spec.ImageName, "version=" + Version };
        lines.AddRange(spec.Labels.Select(l => $"label:{l.Key}={l.Value}"));
        File.WriteAllLines(Record(id), lines);
        return Task.FromResult(id);
    }

    public async Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        // Through a shell that exits at once: the sleep is nobody's child, as an engine's instance is not the agent's.
        var start = new ProcessStartInfo("/bin/sh", ["-c", "sleep 86400 </dev/null >/dev/null 2>&1 & echo $!"]) { RedirectStandardOutput = true };
        using var shell = Process.Start(start) ?? throw new ValException("/bin/sh did not start");
        var pid = int.Parse((await shell.StandardOutput.ReadToEndAsync(cancellationToken)).Trim(), CultureInfo.InvariantCulture);
        await shell.WaitForExitAsync(cancellationToken);
        File.AppendAllLines(Record(instanceId), ["pid=" + pid, "started=" + StartTime(pid)]);
    }

    public Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (Read(instanceId) is { } record && IsAlive(record))
        {
            using var process = Process.GetProcessById(record.Pid);
            process.Kill();
        }
        return Task.CompletedTask;
    }

    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        File.Delete(Record(instanceId));
        return Task.CompletedTask;
    }

    public Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken) => Task.FromResult(File.Exists(Record(instanceId)));

    public Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ValInstance>>(Directory.GetFiles(_instances)
            .Select(f => Read(Path.GetFileName(f)))
            .OfType<InstanceRecord>()
            .Where(IsAlive)
            .Select(r => new ValInstance(r.Id, r.Image, r.Labels))
            .ToList());

    public Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Read(instanceId) is { } record
            ? new ValInstanceStatus { Name = instanceId, ImageName = record.Image, Status = IsAlive(record) ? ImageState.Running : ImageState.Terminated }
            : null);

    public Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken) => Task.FromResult(new SystemStatus());

    public Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Read(instanceId) is { } record
            ? record.Pid == 0 ? ImageState.Instantiating : IsAlive(record) ? ImageState.Running : ImageState.Terminated
            : ImageState.Terminated);

    private string Record(string id) => Path.Combine(_instances, id);

    private InstanceRecord? Read(string id)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Record(id));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        string Value(string key) => lines.FirstOrDefault(l => l.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..] ?? "";
        var labels = lines.Where(l => l.StartsWith("label:", StringComparison.Ordinal))
            .Select(l => l["label:".Length..].Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return new InstanceRecord(id, Value("image"), int.TryParse(Value("pid"), out var pid) ? pid : 0, Value("started"), labels);
    }

    /// <summary>The process of the record runs: same pid, same start time (not a pid reused), not a zombie.</summary>
    private static bool IsAlive(InstanceRecord record) =>
        record.Pid > 0 && StartTime(record.Pid) is { } started && started == record.Started && State(record.Pid) is not ('Z' or 'X');

    /// <summary>Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot; null when there is no such process.</summary>
    private static string? StartTime(int pid) => Stat(pid) is { } fields ? fields[19] : null;

    private static char? State(int pid) => Stat(pid) is { } fields ? fields[0][0] : null;

    /// <summary>The fields of /proc/PID/stat after the command name (which may hold spaces): state first.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
    }

    private sealed record InstanceRecord(string Id, string Image, int Pid, string Started, IReadOnlyDictionary<string, string> Labels);
}
