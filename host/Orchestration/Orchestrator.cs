using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Motey.Abstractions;
using Motey.Host.Api.Parsing;
using Motey.Host.Configuration;
using Motey.Host.Storage;

namespace Motey.Host.Orchestration;

internal enum CommandKind { Deploy, Terminate }

/// <summary>A unit of work for the orchestration worker; <see cref="Show"/> makes it readable in logs.</summary>
internal sealed record OrchestrationCommand(CommandKind Kind, string ServiceId)
{
    public string Show() => $"{Kind} service {ServiceId}";
}

/// <summary>
/// The seed's InterNodeOrchestrator: accepts services, deploys each image where it can run, follows
/// the instances' states and terminates services. Every change is stored at once; work on one service
/// is serialised, different services proceed in parallel.
/// </summary>
internal sealed class Orchestrator(
    ServiceRepository services,
    Placement placement,
    IPeerDirectory peers,
    MoteySettings settings,
    ILogger<Orchestrator> log)
{
    /// <summary>Nodes one deploy of an image tries before the image ends ERROR: a broken image fails everywhere, fast or not.</summary>
    public const int MaxDeployAttempts = 3;

    /// <summary>How often a deploy in progress checks that its node is still in the cluster.</summary>
    private static readonly TimeSpan MembershipCheckInterval = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<(string ServiceId, int Index), DateTime> _restartsDue = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<string, bool> _terminationRequested = new();
    private readonly Channel<OrchestrationCommand> _commands = Channel.CreateUnbounded<OrchestrationCommand>();

    public ChannelReader<OrchestrationCommand> Commands => _commands.Reader;

    /// <summary>Stores the blueprint as a new service (INITIAL) and queues its deployment.</summary>
    public async Task<Service> AcceptAsync(Blueprint blueprint, CancellationToken cancellationToken)
    {
        var service = new Service
        {
            Id = Guid.NewGuid().ToString("N"),
            ServiceName = blueprint.ServiceName,
            NodeType = blueprint.NodeType,
            Images = blueprint.Images,
            State = ServiceState.Initial,
        };
        await services.AddAsync(service, cancellationToken);
        log.LogInformation("Service {ServiceId} ({ServiceName}) accepted with {ImageCount} images", service.Id, service.ServiceName, service.Images.Count);
        Enqueue(new OrchestrationCommand(CommandKind.Deploy, service.Id));
        return service;
    }

    /// <summary>Queues the termination of a service; deployment of its remaining images stops.</summary>
    public void RequestTermination(string serviceId)
    {
        _terminationRequested[serviceId] = true;
        Enqueue(new OrchestrationCommand(CommandKind.Terminate, serviceId));
    }

    private void Enqueue(OrchestrationCommand command) => _commands.Writer.TryWrite(command);

    /// <summary>Work left over from a previous run: undeployed images are deployed, interrupted terminations finished.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        foreach (var service in await services.AllAsync(cancellationToken))
        {
            if (service.Images.Any(i => i.State == ImageState.Stopping))
                RequestTermination(service.Id);
            else if (service.Images.Any(NeedsDeployment))
                Enqueue(new OrchestrationCommand(CommandKind.Deploy, service.Id));
        }
    }

    public Task RunAsync(OrchestrationCommand command, CancellationToken cancellationToken) => command.Kind switch
    {
        CommandKind.Deploy => DeployAsync(command.ServiceId, cancellationToken),
        _ => TerminateAsync(command.ServiceId, cancellationToken),
    };

    private static bool NeedsDeployment(Image image) =>
        image.State == ImageState.Initial || (image.State == ImageState.Instantiating && image.Id.Length == 0);

    private async Task DeployAsync(string serviceId, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(serviceId, cancellationToken);
        var service = await services.GetAsync(serviceId, cancellationToken);
        for (var index = 0; service is not null && index < service.Images.Count; index++)
        {
            if (_terminationRequested.ContainsKey(serviceId)) return;
            if (!NeedsDeployment(service.Images[index])) continue;
            try
            {
                service = await DeployImageAsync(service, index, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A fault of the agent itself, not of a node (those are handled inside): the image must not stay INITIAL.
                log.LogError(e, "Deploying image {Index} of service {ServiceId} failed unexpectedly", index, serviceId);
                service = await services.GetAsync(serviceId, cancellationToken) ?? service;
                service = await SaveAsync(service, index, service.Images[index] with
                {
                    State = ImageState.Error, StateMessage = $"the deploy failed unexpectedly: {e.Message} (see the agent's log)",
                }, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Places the image and deploys it. When the deploy fails on the chosen node (an error, a timeout, or the node
    /// leaving the cluster meanwhile), leftovers there are removed and the next node that can run the image is
    /// tried, up to <see cref="MaxDeployAttempts"/> nodes; the image ends ERROR, naming every failure, when none is left.
    /// </summary>
    private async Task<Service> DeployImageAsync(Service service, int index, CancellationToken cancellationToken)
    {
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<string>();
        while (true)
        {
            var image = service.Images[index];
            var target = failures.Count < MaxDeployAttempts ? await placement.FindNodeAsync(image, failed, cancellationToken) : null;
            if (target?.Node is null)
            {
                var why = target is null ? $"gave up after {failures.Count} nodes"
                    : failures.Count == 0 ? target.Problem! : $"no other node can run it ({target.Problem})";
                if (failures.Count > 0) why = $"{string.Join("; ", failures)}; {why}";
                return await SaveAsync(service, index, image with { State = ImageState.Error, StateMessage = why }, cancellationToken);
            }

            var node = target.Node;
            service = await SaveAsync(service, index, image with { Node = node.Address, State = ImageState.Instantiating, StateMessage = "" }, cancellationToken);
            image = service.Images[index];
            var labels = Labels(service.Id, index, node.Address);
            try
            {
                var id = await DeployOnAsync(node, image, labels, cancellationToken);
                service = await SaveAsync(service, index, image with { Id = id }, cancellationToken);
                log.LogInformation("Image {Image} of service {ServiceId} runs on {Node} as {InstanceId}", image.Name, service.Id, node.Address, id);
                return await RefreshAsync(service, index, node, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Image {Image} of service {ServiceId} failed to deploy on {Node}: {Error}", image.Name, service.Id, node.Address, e.Message);
                failed.Add(node.Address);
                failures.Add($"deploy on {node.Address} failed: {e.Message}");
                if (peers.Find(node.Address) is not null) await RemoveLeftoversAsync(node, image, labels, cancellationToken);
                if (_terminationRequested.ContainsKey(service.Id))
                    return await SaveAsync(service, index, image with { State = ImageState.Error, StateMessage = string.Join("; ", failures) }, cancellationToken);
                service = await SaveAsync(service, index, image with { StateMessage = $"{string.Join("; ", failures)}; trying another node" }, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Deploys on <paramref name="node"/>; gives up at once when the node leaves the cluster meanwhile (its peers heard
    /// it go), instead of waiting out the deploy timeout for an answer that cannot come.
    /// </summary>
    private async Task<string> DeployOnAsync(INodeClient node, Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deploy = node.DeployImageAsync(image, labels, abandon.Token);
        while (await Task.WhenAny(deploy, Task.Delay(MembershipCheckInterval, cancellationToken)) != deploy)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (peers.Find(node.Address) is not null) continue;
            abandon.Cancel();
            try
            {
                await deploy;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // abandoned: the node is gone, whatever the request says now
            }
            throw new NodeLeftException($"node {node.Address} left the cluster during the deploy");
        }
        return await deploy;
    }

    /// <summary>Best effort after a failed deploy: what the node created under the image's labels goes (nodes without removal by labels do nothing).</summary>
    private async Task RemoveLeftoversAsync(INodeClient node, Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        try
        {
            await node.RemoveLeftoversAsync(image, labels, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Leftovers of image {Image} of service {ServiceId} on {Node} could not be removed: {Error}",
                image.Name, labels[InstanceLabels.ServiceId], node.Address, e.Message);
        }
    }

    private async Task TerminateAsync(string serviceId, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(serviceId, cancellationToken);
        var service = await services.GetAsync(serviceId, cancellationToken);
        for (var index = 0; service is not null && index < service.Images.Count; index++)
        {
            var image = service.Images[index];
            _restartsDue.TryRemove((serviceId, index), out _);
            if (image.State == ImageState.Terminated) continue;
            if (image.Id.Length == 0 || image.Node is null)
            {
                // No instance id: nothing was started, unless a deploy was cut short after the engine created
                // something (engine gone, agent killed): that is found by its labels. The error stays readable.
                if (image.Node is not null && peers.Find(image.Node) is { } owner)
                    await RemoveLeftoversAsync(owner, image, Labels(serviceId, index, image.Node), cancellationToken);
                service = await SaveAsync(service, index, image with { State = ImageState.Terminated }, cancellationToken);
                continue;
            }
            if (peers.Find(image.Node) is not { } node)
            {
                service = await SaveAsync(service, index, image with
                {
                    State = ImageState.Terminated, StateMessage = $"node {image.Node} left the cluster; nothing to stop",
                }, cancellationToken);
                continue;
            }
            service = await SaveAsync(service, index, image with { State = ImageState.Stopping, StateMessage = "" }, cancellationToken);
            try
            {
                await node.TerminateImageAsync(image, cancellationToken);
                service = await SaveAsync(service, index, image with { State = ImageState.Terminated }, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Image {Image} of service {ServiceId} failed to stop: {Error}", image.Name, serviceId, e.Message);
                service = await SaveAsync(service, index, image with { State = ImageState.Error, StateMessage = $"stop on {image.Node} failed: {e.Message}" }, cancellationToken);
            }
        }
        _terminationRequested.TryRemove(serviceId, out bool _);
        if (service is not null) log.LogInformation("Service {ServiceId} terminated: {State}", serviceId, service.State);
    }

    /// <summary>One pass over every service with live instances: their states follow what the nodes report.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        foreach (var candidate in await services.AllAsync(cancellationToken))
        {
            if (!candidate.Images.Any(IsLive)) continue;
            var gate = _locks.GetOrAdd(candidate.Id, _ => new SemaphoreSlim(1, 1));
            if (!await gate.WaitAsync(0, cancellationToken)) continue;  // busy: the next pass gets it
            try
            {
                var service = await services.GetAsync(candidate.Id, cancellationToken);
                for (var index = 0; service is not null && index < service.Images.Count; index++)
                {
                    var image = service.Images[index];
                    if (!IsLive(image)) continue;
                    // A node that left the cluster takes its instances with it: they count as ended,
                    // so the restart policy places them again (on-failure by default: exit code unknown).
                    service = peers.Find(image.Node!) is { } node
                        ? await RefreshAsync(service, index, node, cancellationToken)
                        : await InstanceEndedAsync(service, index, null, cancellationToken);
                }
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private static bool IsLive(Image image) =>
        image.Id.Length > 0 && image.Node is not null && image.State is ImageState.Instantiating or ImageState.Running;

    private async Task<Service> RefreshAsync(Service service, int index, INodeClient node, CancellationToken cancellationToken)
    {
        var image = service.Images[index];
        if (await RestartIfDueAsync(service, index, node, cancellationToken) is { } restarted) return restarted;
        ImageState state;
        string message = "";
        try
        {
            state = await node.GetImageStateAsync(image, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A slow or unreachable node: keep the last known state, say why, ask again on the next pass.
            (state, message) = (image.State, $"state of instance {image.Id} on {node.Address} unknown: {e.Message}");
        }
        if (state == ImageState.Terminated) return await InstanceEndedAsync(service, index, node, cancellationToken);
        if (state == image.State && message == image.StateMessage) return service;
        log.LogInformation("Image {Image} of service {ServiceId}: {OldState} -> {NewState}", image.Name, service.Id, image.State, state);
        return await SaveAsync(service, index, image with { State = state, StateMessage = message }, cancellationToken);
    }

    /// <summary>
    /// An instance ended without the agent stopping it: per the image's restart policy it is replaced after
    /// an exponential backoff (the image shows INSTANTIATING meanwhile), or the image ends TERMINATED
    /// (exit code 0) or ERROR.
    /// </summary>
    private async Task<Service> InstanceEndedAsync(Service service, int index, INodeClient? node, CancellationToken cancellationToken)
    {
        if (await RestartIfDueAsync(service, index, node, cancellationToken) is { } restarted) return restarted;
        var image = service.Images[index];
        int? exitCode = null;
        try
        {
            if (node is not null) exitCode = await node.GetExitCodeAsync(image, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Exit code of instance {InstanceId} on {Node} unknown: {Error}", image.Id, node!.Address, e.Message);
        }
        var ended = node is null ? $"node {image.Node} left the cluster with instance {image.Id}"
            : exitCode is null ? $"instance {image.Id} ended (exit code unknown)"
            : $"instance {image.Id} ended with exit code {exitCode}";
        var policy = RestartPolicies.Of(image);
        var failed = exitCode != 0;
        if (policy == RestartPolicy.Never || (policy == RestartPolicy.OnFailure && !failed))
        {
            log.LogInformation("Image {Image} of service {ServiceId}: {Ended}; restart policy {Policy}, not restarted", image.Name, service.Id, ended, policy);
            return await SaveAsync(service, index, image with
            {
                State = failed ? ImageState.Error : ImageState.Terminated,
                StateMessage = $"{ended}; not restarted (restart policy {Show(policy)})",
            }, cancellationToken);
        }
        var delay = Backoff(image.Restarts);
        _restartsDue[(service.Id, index)] = DateTime.UtcNow + delay;
        log.LogInformation("Image {Image} of service {ServiceId}: {Ended}; restart {Restart} in {Delay}", image.Name, service.Id, ended, image.Restarts + 1, delay);
        return await SaveAsync(service, index, image with
        {
            State = ImageState.Instantiating,
            StateMessage = $"{ended}; restart {image.Restarts + 1} in {delay.TotalSeconds:0.###} s (restart policy {Show(policy)})",
        }, cancellationToken);
    }

    /// <summary>When a replacement is due, replaces the instance; null when none is pending or it is not due yet.</summary>
    private async Task<Service?> RestartIfDueAsync(Service service, int index, INodeClient? node, CancellationToken cancellationToken)
    {
        if (!_restartsDue.TryGetValue((service.Id, index), out var due)) return null;
        if (DateTime.UtcNow < due || _terminationRequested.ContainsKey(service.Id)) return service;
        _restartsDue.TryRemove((service.Id, index), out _);
        return await ReplaceInstanceAsync(service, index, node, cancellationToken);
    }

    /// <summary>Removes the ended instance (when its node is still there) and deploys the image anew, placement included, as after a POST.</summary>
    private async Task<Service> ReplaceInstanceAsync(Service service, int index, INodeClient? node, CancellationToken cancellationToken)
    {
        var image = service.Images[index];
        try
        {
            if (node is not null) await node.TerminateImageAsync(image, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Ended instance {InstanceId} on {Node} could not be removed: {Error}", image.Id, node!.Address, e.Message);
        }
        service = await SaveAsync(service, index, image with { Id = "", State = ImageState.Initial, Restarts = image.Restarts + 1 }, cancellationToken);
        return await DeployImageAsync(service, index, cancellationToken);
    }

    /// <summary>The labels every instance of this image gets, so the agent can find it without its id.</summary>
    private static Dictionary<string, string> Labels(string serviceId, int index, string node) => new()
    {
        [InstanceLabels.ServiceId] = serviceId,
        [InstanceLabels.ImageIndex] = index.ToString(CultureInfo.InvariantCulture),
        [InstanceLabels.Node] = node,
    };

    /// <summary>restart_backoff, doubled for each earlier restart, at most restart_backoff_max.</summary>
    private TimeSpan Backoff(int restarts)
    {
        var o = settings.Orchestrator;
        var factor = Math.Pow(2, Math.Min(restarts, 30));
        return TimeSpan.FromSeconds(Math.Min(o.RestartBackoff.TotalSeconds * factor, o.RestartBackoffMax.TotalSeconds));
    }

    private static string Show(RestartPolicy policy) => policy switch
    {
        RestartPolicy.Always => "always",
        RestartPolicy.Never => "never",
        _ => "on-failure",
    };

    /// <summary>Replaces one image, derives the service's state and message, and stores the result at once.</summary>
    private async Task<Service> SaveAsync(Service service, int index, Image image, CancellationToken cancellationToken)
    {
        var images = service.Images.ToArray();
        images[index] = image;
        var updated = service with
        {
            Images = images,
            State = ServiceStates.FromImages(images.Select(i => i.State)),
            StateMessage = string.Join("; ", images
                .Select((i, n) => (i, n))
                .Where(x => x.i.StateMessage.Length > 0)
                .Select(x => $"images[{x.n}] ({x.i.Name}): {x.i.StateMessage}")),
        };
        await services.UpdateAsync(updated, cancellationToken);
        return updated;
    }

    private async Task<IDisposable> LockAsync(string serviceId, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(serviceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}

/// <summary>The node a request was waiting for left the cluster.</summary>
internal sealed class NodeLeftException(string message) : Exception(message);
