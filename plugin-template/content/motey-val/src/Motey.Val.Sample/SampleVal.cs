using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;

namespace Motey.Val.Sample;

/// <summary>
/// The <c>sample</c> VAL: runs the images of blueprints that say <c>engine: sample</c> on this node.
/// </summary>
/// <remarks>
/// <para>As generated, it keeps its images and instances in memory, so the plugin works end to end before it talks to
/// any engine: a blueprint reaches RUNNING and can be deleted. Every <c>TODO(engine)</c> marks a place where a call to
/// the real engine replaces the in-memory stand-in; <see cref="SampleInstance"/> goes once the engine keeps the state.</para>
/// <para><b>Settings</b> come from the <c>[SAMPLE]</c> section of the agent's config.ini (<see cref="SampleSettings"/>);
/// <b>parameters</b> from each blueprint image (<see cref="SampleParameters"/>), unknown keys refused.</para>
/// <para>The agent calls a VAL from several threads at once and bounds every call with a timeout, so members are
/// thread-safe and pass the <see cref="CancellationToken"/> on to the engine.</para>
/// </remarks>
public sealed class SampleVal : IValPlugin
{
    /// <summary>The engine name: the plugin type, its <c>plugin</c> capability and, in capitals, its config.ini section.</summary>
    public const string Engine = "sample";

    private readonly ConcurrentDictionary<string, SampleInstance> _instances = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _images = new(StringComparer.Ordinal);
    private readonly Lock _createGate = new();
    private ILogger _logger = NullLogger.Instance;
    private SampleSettings _settings = SampleSettings.Default;

    /// <inheritdoc />
    public string PluginType => Engine;

    /// <summary>Reads the <c>[SAMPLE]</c> settings and checks that the engine can be used; throws <see cref="ValException"/> when not.</summary>
    public Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        _settings = SampleSettings.Read(context.Settings);
        _logger = context.LoggerFactory.CreateLogger<SampleVal>();
        // TODO(engine): connect to the engine at _settings.Endpoint and check that it answers (and its version);
        // throw a ValException that says what is wrong when it cannot be used. Files the plugin keeps belong in
        // context.DataDirectory; context.NodeAddress is this node's address in the cluster.
        _logger.LogInformation("Engine {Engine} active: endpoint {Endpoint}, at most {MaxInstances} instances (0: no limit)",
            Engine, _settings.Endpoint is "" ? "(the engine's default)" : _settings.Endpoint, _settings.MaxInstances);
        return Task.CompletedTask;
    }

    /// <summary>Lets go of the engine; the instances keep running.</summary>
    public Task DeactivateAsync(CancellationToken cancellationToken)
    {
        // TODO(engine): close the connection to the engine. Never stop instances here: the agent finds them again
        // after a restart through GetRunningInstancesAsync.
        return Task.CompletedTask;
    }

    /// <summary>Whether the engine answers. Never throws: a failure is <see cref="EngineHealth.Unavailable"/> with the reason.</summary>
    public Task<EngineHealth> CheckEngineAsync(CancellationToken cancellationToken)
    {
        // TODO(engine): ask the engine whether it answers (a ping or a version call) and return
        // EngineHealth.Unavailable($"{_settings.Endpoint}: {error}") when it does not. While it does not, the agent
        // withdraws the `sample` capability, so no image is placed here.
        return Task.FromResult(EngineHealth.Available);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var problems = new List<string>();
        SampleParameters.Parse(parameters, problems);
        return problems;
    }

    /// <summary>Whether the image has been loaded on this node.</summary>
    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken)
    {
        // TODO(engine): ask the engine whether the image is present.
        return Task.FromResult(_images.ContainsKey(imageName));
    }

    /// <summary>Brings the image to this node (the agent asks <see cref="HasImageAsync"/> first).</summary>
    public Task LoadImageAsync(string imageName, CancellationToken cancellationToken)
    {
        // TODO(engine): download the image; throw a ValException naming the image when the engine has no such image.
        _images.TryAdd(imageName, DateTimeOffset.UtcNow);
        _logger.LogInformation("Loaded image {ImageName}", imageName);
        return Task.CompletedTask;
    }

    /// <summary>Deletes the image from this node; its instances stay.</summary>
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken)
    {
        // TODO(engine): delete the image.
        _images.TryRemove(imageName, out _);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Creates an instance in state Initial, not started. Throws <see cref="ValException"/> for invalid parameters, an
    /// image that is not loaded, or when <c>max_instances</c> instances already exist.
    /// </summary>
    public Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var parameters = SampleParameters.Parse(spec.Parameters, problems);
        if (problems.Count > 0) throw new ValException(string.Join("; ", problems));
        if (!_images.ContainsKey(spec.ImageName))
            throw new ValException($"image '{spec.ImageName}' is not loaded on this node");

        // TODO(engine): create the instance from spec.ImageName with parameters.Command and parameters.Environment,
        // and keep spec.Labels with it (engine labels, or a file in the data directory): GetRunningInstancesAsync
        // must return them after an agent restart. Use the engine's id for the instance.
        lock (_createGate)
        {
            var existing = _instances.Values.Count(i => !i.HasEnded);
            if (_settings.MaxInstances > 0 && existing >= _settings.MaxInstances)
                throw new ValException($"[SAMPLE] max_instances = {_settings.MaxInstances} reached: no further instance on this node");
            var id = Engine + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            _instances[id] = new SampleInstance(id, spec.ImageName, new Dictionary<string, string>(spec.Labels));
            _logger.LogInformation("Created instance {InstanceId} of {ImageName}: command {Command}, {Variables} environment variables",
                id, spec.ImageName, parameters.Command, parameters.Environment.Count);
            return Task.FromResult(id);
        }
    }

    /// <summary>Starts a created or stopped instance; throws <see cref="ValException"/> for an unknown one.</summary>
    public Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        // TODO(engine): start the instance.
        Find(instanceId).Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops an instance, which may start again until removed. An unknown or ended instance is left alone.</summary>
    public Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        // TODO(engine): stop the instance: ask it to end, and end it by force after a grace period.
        if (_instances.TryGetValue(instanceId, out var instance)) instance.Stop();
        return Task.CompletedTask;
    }

    /// <summary>Removes an instance and what it held. Removing an unknown instance is not an error.</summary>
    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        // TODO(engine): remove the instance and what it held (its file system, its logs).
        if (_instances.TryRemove(instanceId, out var removed))
        {
            removed.Stop();  // a running instance ends with its removal, and so does a follow of its output
            _logger.LogInformation("Removed instance {InstanceId}", instanceId);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        // TODO(engine): ask the engine whether the instance exists, running or not.
        return Task.FromResult(_instances.ContainsKey(instanceId));
    }

    /// <summary>Every instance that has not ended (created or running), with the labels it was created with.</summary>
    public Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken)
    {
        // TODO(engine): list the engine's instances that carry the agent's labels (InstanceLabels.ServiceId) and have
        // not ended, with those labels: how the agent finds its instances again after a restart.
        IReadOnlyList<ValInstance> running = _instances.Values
            .Where(i => !i.HasEnded)
            .Select(i => new ValInstance(i.Id, i.ImageName, i.Labels))
            .ToList();
        return Task.FromResult(running);
    }

    /// <summary>Resource use of one instance, with its exit code once it has ended; null when it does not exist.</summary>
    public Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken)
    {
        // TODO(engine): read the instance's memory, CPU and network use, its address, and its exit code once it ended.
        return Task.FromResult(_instances.TryGetValue(instanceId, out var instance) ? instance.Status() : null);
    }

    /// <summary>The sum over the running instances.</summary>
    public Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(SystemStatus.Sum(_instances.Values.Select(i => i.Status()).Where(s => s.Status == ImageState.Running)));

    /// <summary>State of an instance; <see cref="ImageState.Terminated"/> once it no longer exists.</summary>
    public Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        // TODO(engine): map the engine's state: created → Initial, starting → Instantiating, running → Running,
        // stopping → Stopping, exited → Terminated, failed to start → Error; an instance the engine no longer has
        // → Terminated.
        return Task.FromResult(_instances.TryGetValue(instanceId, out var instance) ? instance.State : ImageState.Terminated);
    }

    /// <summary>
    /// What an instance printed, oldest first: its last <see cref="LogRequest.Tail"/> lines (all when null), then with
    /// <see cref="LogRequest.Follow"/> each new line until the instance ends or the token is cancelled. Throws
    /// <see cref="ValException"/> for an unknown instance.
    /// </summary>
    /// <remarks>
    /// Optional: a VAL that leaves this member out gets the contract's default, which throws
    /// <see cref="NotSupportedException"/>, and the agent answers that the engine does not provide logs (HTTP 501).
    /// The agent serves the lines at <c>GET /v1/service/{id}/logs</c>, from any node of the cluster.
    /// </remarks>
    public async IAsyncEnumerable<LogLine> ReadLogsAsync(
        string instanceId, LogRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // TODO(engine): read the instance's output from the engine (its logs API, or a file it writes): the last
        // request.Tail lines, then, with request.Follow, new lines as they come until the instance ends. Split it into
        // lines on '\n', decode it as UTF-8 (invalid bytes become U+FFFD), and tell stdout from stderr where the engine does.
        var instance = Find(instanceId);
        var (lines, next, ended, nextLine) = instance.Output(0);
        foreach (var line in lines.Skip(request.Tail is { } tail ? Math.Max(0, lines.Count - tail) : 0)) yield return line;
        while (request.Follow && !ended)
        {
            try
            {
                await nextLine.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;  // the reader went away: the enumeration just ends
            }
            (lines, next, ended, nextLine) = instance.Output(next);
            foreach (var line in lines) yield return line;
        }
    }

    private SampleInstance Find(string instanceId) =>
        _instances.TryGetValue(instanceId, out var instance)
            ? instance
            : throw new ValException($"instance '{instanceId}' does not exist on this node");
}
