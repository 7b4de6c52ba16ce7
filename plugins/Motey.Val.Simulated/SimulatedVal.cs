using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;

namespace Motey.Val.Simulated;

/// <summary>
/// The <c>simulated</c> VAL: instances that run nothing, for demos, tests and scale benchmarks. Thread-safe.
/// </summary>
/// <remarks>
/// <para><b>Settings</b> (<c>[SIMULATED]</c> in config.ini): <c>start_delay_ms</c> (default 200), <c>failure_rate</c>
/// (0.0–1.0, default 0), <c>seed</c> (optional, makes the failures repeatable), <c>log_interval_ms</c> (default 1000). A bad value fails activation with a
/// message naming the key and the value.</para>
/// <para><b>Parameters</b> override per image: <c>start_delay_ms</c> (number), <c>fail</c> (boolean: true always ends
/// in Error, false never does).</para>
/// <para><b>Images</b> always exist: any name is present, loading and deleting do nothing, so a blueprint can name
/// whatever it likes.</para>
/// <para><b>States</b>: Initial after create; Instantiating for the start delay, counted from
/// <see cref="StartInstanceAsync"/>; then Running, or Error when the instance fails. Stopping is instant: Terminated
/// right after <see cref="StopInstanceAsync"/>. A stopped or failed instance can be started again.</para>
/// <para><b>Logs</b>: an instance prints "starting", then "running" (or "failed", on standard error) after its start
/// delay, then a line every <c>log_interval_ms</c> (default 1000) while it runs, and "stopped"; the last 1,000 lines are
/// kept until it is removed. Following ends when the instance is stopped, fails or is removed.</para>
/// <para><b>Stats</b> are made up but plausible, and the same for an id every time.</para>
/// <para><b>Instances are kept</b> in the data folder (<c>instances/&lt;id&gt;.json</c>, written at each create, start,
/// stop and remove), so a new version of the VAL (a hot reload) and an agent restart find them: same ids, same states,
/// nothing started again. Their output goes on from their start; the lines printed before are not kept.</para>
/// </remarks>
public sealed partial class SimulatedVal : IValPlugin
{
    private readonly ConcurrentDictionary<string, SimulatedInstance> _instances = new(StringComparer.Ordinal);
    private readonly Lock _diceGate = new();
    private ILogger _logger = NullLogger.Instance;
    private SimulatedSettings _settings = new(SimulatedSettings.DefaultStartDelay, 0, null, SimulatedSettings.DefaultLogInterval);
    private Random _dice = new();
    private string? _records;

    /// <inheritdoc />
    public string PluginType => "simulated";

    /// <summary>Reads the <c>[SIMULATED]</c> settings; throws <see cref="ValException"/> for a bad value.</summary>
    public Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        var settings = SimulatedSettings.Read(context.Settings);
        _logger = context.LoggerFactory.CreateLogger<SimulatedVal>();
        _settings = settings;
        _dice = settings.Seed is { } seed ? new Random(seed) : new Random();
        _records = Path.Combine(context.DataDirectory, "instances");
        Directory.CreateDirectory(_records);
        foreach (var file in Directory.EnumerateFiles(_records, "*.json")) Recall(Path.GetFileNameWithoutExtension(file));
        _logger.LogInformation(
            "Simulated engine active: start delay {StartDelay}, failure rate {FailureRate}, seed {Seed}, a log line every {LogInterval}",
            settings.StartDelay, settings.FailureRate, settings.Seed, settings.LogInterval);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeactivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var problems = new List<string>();
        SimulatedParameters.Parse(parameters, problems);
        return problems;
    }

    /// <summary>Always true: simulated images exist under any name.</summary>
    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken) => Task.FromResult(true);

    /// <summary>Does nothing: there is nothing to download.</summary>
    public Task LoadImageAsync(string imageName, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Does nothing: the image keeps existing.</summary>
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Creates an instance in state Initial; throws <see cref="ValException"/> for invalid parameters.</summary>
    public Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var parameters = SimulatedParameters.Parse(spec.Parameters, problems);
        if (problems.Count > 0) throw new ValException(string.Join("; ", problems));

        var id = "sim-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var instance = new SimulatedInstance(
            id, spec.ImageName, new Dictionary<string, string>(spec.Labels),
            parameters.StartDelay ?? _settings.StartDelay, parameters.Fail, _settings.LogInterval);
        if (!_instances.TryAdd(id, instance)) throw new InvalidOperationException($"instance id {id} was drawn twice");
        Keep(instance);
        _logger.LogDebug("Created simulated instance {InstanceId} of {ImageName}", id, spec.ImageName);
        return Task.FromResult(id);
    }

    /// <inheritdoc />
    public Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = Get(instanceId);
        instance.Start(RollFailure);
        Keep(instance);
        return Task.CompletedTask;
    }

    /// <summary>Terminates the instance at once; an unknown instance is fine.</summary>
    public Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (Known(instanceId) is not { } instance) return Task.CompletedTask;
        instance.Stop();
        Keep(instance);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        Known(instanceId);
        if (_instances.TryRemove(instanceId, out var instance)) instance.Output.Removed();
        if (_records is not null && Id().IsMatch(instanceId)) File.Delete(RecordPath(instanceId));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Known(instanceId) is not null);

    /// <summary>Every instance that has not ended (created, instantiating or running), with its labels.</summary>
    public Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken)
    {
        // Another version active beside this one (during a hot reload) may have created some since this one was activated.
        if (_records is not null)
            foreach (var file in Directory.EnumerateFiles(_records, "*.json")) Known(Path.GetFileNameWithoutExtension(file));
        IReadOnlyList<ValInstance> running = _instances.Values
            .Where(i => i.State is ImageState.Initial or ImageState.Instantiating or ImageState.Running)
            .Select(i => new ValInstance(i.Id, i.ImageName, i.Labels))
            .ToList();
        return Task.FromResult(running);
    }

    /// <inheritdoc />
    public Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Known(instanceId)?.Stats());

    /// <summary>The sum over the running instances.</summary>
    public Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(SystemStatus.Sum(_instances.Values.Select(i => i.Stats()).Where(s => s.Status == ImageState.Running)));

    /// <inheritdoc />
    public Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Known(instanceId)?.State ?? ImageState.Terminated);

    /// <summary>What the instance printed (see the remarks); throws <see cref="ValException"/> for an unknown instance.</summary>
    public IAsyncEnumerable<LogLine> ReadLogsAsync(string instanceId, LogRequest request, CancellationToken cancellationToken) =>
        Get(instanceId).Output.ReadAsync(request, cancellationToken);

    private SimulatedInstance Get(string instanceId) =>
        Known(instanceId) ?? throw new ValException($"instance '{instanceId}' does not exist on this node");

    /// <summary>The instance in memory, else read back from its record (one another version of the VAL wrote); null when neither has it.</summary>
    private SimulatedInstance? Known(string instanceId) =>
        _instances.TryGetValue(instanceId, out var instance) ? instance : Recall(instanceId);

    private SimulatedInstance? Recall(string instanceId)
    {
        if (_records is null || !Id().IsMatch(instanceId)) return null;
        SimulatedRecord? record;
        try
        {
            using var stream = File.OpenRead(RecordPath(instanceId));
            record = JsonSerializer.Deserialize<SimulatedRecord>(stream);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (JsonException e)
        {
            _logger.LogWarning("Simulated instance record {Record} is not readable ({Error}); the instance is unknown", RecordPath(instanceId), e.Message);
            return null;
        }
        return record is null || record.Id != instanceId ? null : _instances.GetOrAdd(instanceId, _ => SimulatedInstance.From(record));
    }

    /// <summary>Writes the instance's record (to a temporary file, then renamed: a reader never sees half a record).</summary>
    private void Keep(SimulatedInstance instance)
    {
        if (_records is null) return;
        var path = RecordPath(instance.Id);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(instance.Record()));
        File.Move(temporary, path, overwrite: true);
    }

    private string RecordPath(string instanceId) => Path.Combine(_records!, instanceId + ".json");

    [GeneratedRegex("^sim-[0-9a-f]{16}$")]
    private static partial Regex Id();

    private bool RollFailure()
    {
        // Random is not thread-safe, and one seeded sequence keeps a benchmark repeatable.
        lock (_diceGate) return _dice.NextDouble() < _settings.FailureRate;
    }
}
