using System.Runtime.CompilerServices;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Val.Docker.Parameters;

namespace Motey.Val.Docker;

/// <summary>
/// The <c>docker</c> VAL: runs images as containers on a Docker engine (Docker.DotNet). Thread-safe.
/// </summary>
/// <remarks>
/// <para><b>Settings</b> (<c>[DOCKER]</c> in config.ini): <c>url</c> (<c>unix:///path</c> or <c>tcp://host:port</c>,
/// default <c>unix:///var/run/docker.sock</c>), <c>pull_timeout</c> (seconds, default 300), <c>stop_timeout</c>
/// (seconds between SIGTERM and SIGKILL, default 10), and the policy of what a blueprint may ask of the host:
/// <c>allow_privileged</c>, <c>allow_host_network</c>, <c>allow_host_pid</c>, <c>allow_host_ipc</c> (default false),
/// <c>allowed_capabilities</c>, <c>allowed_devices</c>, <c>allowed_bind_paths</c> (comma-separated; default none).
/// A bad value fails activation naming the key.</para>
/// <para><b>Engine health</b>: activation does not contact the engine, which may start after the agent.
/// <see cref="CheckEngineAsync"/> pings it (3 s); every other member throws a <see cref="ValException"/> naming the
/// URL while it does not answer, and the engine's own message when it refuses a request.</para>
/// <para><b>Parameters</b>: <c>name</c>, <c>ports</c>, <c>environment</c>, <c>command</c>, <c>volumes</c>,
/// <c>network_mode</c>, <c>mem_limit</c>, <c>cpus</c> / <c>nano_cpus</c>, <c>init</c> (default true), <c>labels</c>,
/// <c>detach</c> (no effect) and <c>restart_policy</c>; and, as far as the policy allows, <c>privileged</c>,
/// <c>pid_mode</c>, <c>ipc_mode</c>, <c>cap_add</c> and <c>devices</c> (as are <c>network_mode: host</c> and bind
/// mounts in <c>volumes</c>). The restart policy is only checked: the agent enforces it for every engine, so containers
/// get no Docker restart policy. Anything else is refused. The policy is checked by the node that runs the image
/// (<see cref="ValidateImage"/>, before a deploy, and again when an instance is created), so a deploy a peer asks for obeys
/// this node's policy; a blueprint posted here is checked against the parameters alone (<see cref="ValidateParameters"/>),
/// since another node may allow what this one does not.</para>
/// <para><b>Labels</b>: every container carries the agent's labels, the blueprint's, <c>motey.managed=true</c> and
/// <c>motey.image.name</c>; the listing of instances is the engine's containers with <c>motey.managed=true</c>.</para>
/// <para><b>States</b>: created/restarting → Instantiating, running → Running, paused/removing → Stopping,
/// exited/dead → Terminated (with the exit code in the stats), gone → Terminated, anything else → Error.</para>
/// <para><b>Logs</b> (<see cref="ReadLogsAsync"/>) are the engine's own (<c>docker logs</c>): stdout and stderr apart,
/// each line with the time the engine recorded, kept by the engine's logging driver until the container is removed.
/// Only containers with <c>motey.managed=true</c>, named by their full ID, are read: others (and a name or an ID prefix)
/// are "not an instance of this VAL".</para>
/// <para><b>Stats</b> are one sample per call, as <c>docker stats --no-stream</c>: about a second each.</para>
/// </remarks>
public sealed class DockerVal : IValPlugin
{
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(3);
    private const int StatsParallelism = 8;

    private ILogger _logger = NullLogger.Instance;
    private DockerSettings? _settings;
    private DockerEngine? _engine;

    /// <inheritdoc />
    public string PluginType => "docker";

    /// <summary>Reads <c>[DOCKER]</c> and creates the client; throws <see cref="ValException"/> for a bad setting, never for an absent engine.</summary>
    public Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        var settings = DockerSettings.Read(context.Settings);
        _logger = context.LoggerFactory.CreateLogger<DockerVal>();
        _settings = settings;
        Interlocked.Exchange(ref _engine, new DockerEngine(settings))?.Dispose();
        _logger.LogInformation(
            "Docker engine at {DockerUrl}: pull timeout {PullTimeout}, stop timeout {StopTimeoutSeconds} s",
            settings.Url, settings.PullTimeout, settings.StopTimeout);
        return Task.CompletedTask;
    }

    /// <summary>Closes the client; containers keep running.</summary>
    public Task DeactivateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _engine, null)?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Pings the engine with a 3 s deadline. Never throws.</summary>
    public Task<EngineHealth> CheckEngineAsync(CancellationToken cancellationToken) =>
        _engine is { } engine
            ? engine.PingAsync(PingTimeout, cancellationToken)
            : Task.FromResult(EngineHealth.Unavailable("the docker VAL is not active"));

    /// <summary>
    /// The parameters as Docker reads them, the same on every node: each one known and well-formed; what only a setting
    /// allows (privileged, host namespaces, added capabilities, devices, bind mounts) is left to <see cref="ValidateImage"/>.
    /// </summary>
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var problems = new List<string>();
        ContainerParameters.Map(parameters, DockerPolicy.AnySettings, problems);
        return problems;
    }

    /// <summary>The parameters, and what they ask of this host against this node's <c>[DOCKER]</c> policy.</summary>
    public IReadOnlyList<string> ValidateImage(string imageName, IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var problems = new List<string>();
        // Before activation nothing is allowed beyond the container: the policy is unknown.
        ContainerParameters.Map(parameters, _settings?.Policy ?? DockerPolicy.Closed, problems);
        return problems;
    }

    /// <inheritdoc />
    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken) =>
        Engine.CallAsync($"inspecting image '{imageName}'", async (client, token) =>
        {
            try
            {
                await client.Images.InspectImageAsync(imageName, token).ConfigureAwait(false);
                return true;
            }
            catch (DockerImageNotFoundException)
            {
                return false;
            }
        }, cancellationToken);

    /// <summary>Pulls the image within <c>pull_timeout</c>; an image already present is not pulled again.</summary>
    public async Task LoadImageAsync(string imageName, CancellationToken cancellationToken)
    {
        var engine = Engine;
        if (await HasImageAsync(imageName, cancellationToken).ConfigureAwait(false)) return;
        _logger.LogInformation("Pulling image {ImageName} from {DockerUrl}", imageName, engine.Url);
        await ImagePuller.PullAsync(engine, imageName, Settings.PullTimeout, cancellationToken).ConfigureAwait(false);
        if (!await HasImageAsync(imageName, cancellationToken).ConfigureAwait(false))
        {
            throw new ValException($"pulling image '{imageName}' ended without the image on this node");
        }
    }

    /// <summary>Removes the image (not forced: an image a container uses stays, with the engine's reason); an absent one is fine.</summary>
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken) =>
        Engine.CallAsync($"deleting image '{imageName}'", async (client, token) =>
        {
            try
            {
                await client.Images.DeleteImageAsync(imageName, new ImageDeleteParameters(), token).ConfigureAwait(false);
            }
            catch (DockerImageNotFoundException)
            {
                _logger.LogDebug("Image {ImageName} was not on this node", imageName);
            }
        }, cancellationToken);

    /// <summary>Creates the container (not started) with the parameters mapped and the labels; returns its id.</summary>
    public async Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var engine = Engine;
        var problems = new List<string>();
        // The same checks as at POST, against this node's policy: a peer's deploy request obeys it too.
        var create = ContainerParameters.Build(spec, Settings.Policy, problems);
        if (problems.Count > 0) throw new ValException(string.Join("; ", problems));

        var created = await engine.CallAsync(
            $"creating a container of '{spec.ImageName}'",
            (client, token) => client.Containers.CreateContainerAsync(create, token),
            cancellationToken).ConfigureAwait(false);
        foreach (var warning in created.Warnings ?? [])
        {
            _logger.LogWarning("Container {InstanceId} of {ImageName}: the engine warns {EngineWarning}", created.ID, spec.ImageName, warning);
        }
        _logger.LogDebug("Created container {InstanceId} of {ImageName}", created.ID, spec.ImageName);
        return created.ID;
    }

    /// <summary>Starts a created or stopped container; a running one is left alone.</summary>
    public Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        Engine.CallAsync($"starting container {instanceId}", async (client, token) =>
        {
            try
            {
                await client.Containers.StartContainerAsync(instanceId, new ContainerStartParameters(), token).ConfigureAwait(false);
            }
            catch (DockerContainerNotFoundException e)
            {
                throw new ValException($"instance '{instanceId}' does not exist on this node", e);
            }
        }, cancellationToken);

    /// <summary>SIGTERM, then SIGKILL after <c>stop_timeout</c>; a stopped or unknown container is fine.</summary>
    public Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var stop = new ContainerStopParameters { WaitBeforeKillSeconds = Settings.StopTimeout };
        return Engine.CallAsync($"stopping container {instanceId}", async (client, token) =>
        {
            try
            {
                await client.Containers.StopContainerAsync(instanceId, stop, token).ConfigureAwait(false);
            }
            catch (DockerContainerNotFoundException)
            {
                _logger.LogDebug("Container {InstanceId} to stop does not exist", instanceId);
            }
        }, cancellationToken);
    }

    /// <summary>Removes the container, running or not, with its anonymous volumes; an unknown one is fine.</summary>
    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        Engine.CallAsync($"removing container {instanceId}", async (client, token) =>
        {
            try
            {
                await client.Containers.RemoveContainerAsync(
                    instanceId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, token).ConfigureAwait(false);
            }
            catch (DockerContainerNotFoundException)
            {
                _logger.LogDebug("Container {InstanceId} to remove does not exist", instanceId);
            }
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        await ContainerQueries.InspectAsync(Engine, instanceId, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Every container with <c>motey.managed=true</c> that is created, running, restarting or paused, with its labels.</summary>
    public async Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken)
    {
        var containers = await ManagedContainers.ListAsync(Engine, ContainerStates.NotEnded, cancellationToken).ConfigureAwait(false);
        return containers
            .Select(c => new ValInstance(
                c.Id, ContainerStatus.ImageNameOf(c.Labels, c.Image),
                new Dictionary<string, string>(c.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)))
            .ToList();
    }

    /// <summary>State, exit code, address and, while running, one usage sample; null for an unknown container.</summary>
    public async Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken)
    {
        var engine = Engine;
        var container = await ContainerQueries.InspectAsync(engine, instanceId, cancellationToken).ConfigureAwait(false);
        if (container is null) return null;
        var sample = container.State?.Running == true
            ? await ContainerQueries.SampleAsync(engine, instanceId, cancellationToken).ConfigureAwait(false)
            : null;
        return ContainerStatus.From(instanceId, container, sample);
    }

    /// <summary>The sum of one sample of each running container of this VAL, taken side by side.</summary>
    public async Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken)
    {
        var engine = Engine;
        var running = await ManagedContainers.ListAsync(engine, ["running"], cancellationToken).ConfigureAwait(false);
        var usages = new List<ValInstanceStatus>();
        var gate = new Lock();
        await Parallel.ForEachAsync(
            running,
            new ParallelOptions { MaxDegreeOfParallelism = StatsParallelism, CancellationToken = cancellationToken },
            async (container, token) =>
            {
                if (await ContainerQueries.SampleAsync(engine, container.Id, token).ConfigureAwait(false) is not { } sample) return;
                var usage = ContainerStatus.WithUsage(new ValInstanceStatus { Name = container.Id, ImageName = container.Image ?? "" }, sample);
                lock (gate) usages.Add(usage);
            }).ConfigureAwait(false);
        return SystemStatus.Sum(usages);
    }

    /// <inheritdoc />
    public async Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        var container = await ContainerQueries.InspectAsync(Engine, instanceId, cancellationToken).ConfigureAwait(false);
        return container is null ? ImageState.Terminated : ContainerStates.ToImageState(container.State?.Status);
    }

    /// <summary>
    /// The container's output from the engine's logs API: stdout and stderr apart, each line with the time the engine
    /// recorded; with follow, until the container stops (the engine ends the stream then) or the token is cancelled.
    /// Throws <see cref="ValException"/> (at the first line asked for) for an unknown container or one this VAL does not manage.
    /// </summary>
    public async IAsyncEnumerable<LogLine> ReadLogsAsync(
        string instanceId, LogRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var logs = await ContainerLogs.OpenAsync(Engine, instanceId, request, cancellationToken).ConfigureAwait(false);
        // A read waiting for the next line may not watch the token on every transport: closing the stream ends it.
        await using var closeOnCancel = cancellationToken.Register(logs.Dispose).ConfigureAwait(false);
        var lines = new List<LogLine>();
        bool more;
        do
        {
            more = await logs.ReadAsync(lines, cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) yield break;
            foreach (var line in lines) yield return line;
            lines.Clear();
        }
        while (more);
    }

    private DockerEngine Engine => _engine ?? throw new ValException("the docker VAL is not active");

    private DockerSettings Settings => _settings ?? throw new ValException("the docker VAL is not active");
}
