using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Orchestration;

/// <summary>
/// The seed's InterNodeOrchestrator, as the API and the worker see it: accepts services and termination requests as
/// commands, runs them through its parts — <see cref="Deployer"/> (placement and failover), <see cref="Terminator"/>,
/// <see cref="Reconciler"/> (states and restart policy) — and resumes what a previous run left unfinished. Every change
/// is stored at once; work on one service is serialised (<see cref="ServiceLocks"/>), different services proceed in parallel.
/// </summary>
public sealed class Orchestrator(
    IServiceStore services,
    Reconciler reconciler,
    Terminator terminator,
    ServiceLocks locks,
    ServiceIntents intents,
    ILogger<Orchestrator> log) : IDisposable
{
    private readonly Channel<OrchestrationCommand> _commands = Channel.CreateUnbounded<OrchestrationCommand>();
    private readonly ConcurrentDictionary<string, bool> _deploysQueued = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _accepting = new(1, 1);

    /// <inheritdoc />
    public void Dispose() => _accepting.Dispose();

    /// <summary>The commands waiting for the worker.</summary>
    public ChannelReader<OrchestrationCommand> Commands => _commands.Reader;

    /// <summary>
    /// Stores the blueprint as a new service (INITIAL) and queues its deployment. Throws
    /// <see cref="DuplicateServiceException"/> while a service of the same name has not ended.
    /// </summary>
    public async Task<Service> AcceptAsync(Blueprint blueprint, CancellationToken cancellationToken)
    {
        await _accepting.WaitAsync(cancellationToken);
        try
        {
            var existing = (await services.AllAsync(cancellationToken)).FirstOrDefault(s => s.ServiceName == blueprint.ServiceName && !s.HasEnded());
            if (existing is not null) throw new DuplicateServiceException(existing);
            return await AddAsync(blueprint, cancellationToken);
        }
        finally
        {
            _accepting.Release();
        }
    }

    private async Task<Service> AddAsync(Blueprint blueprint, CancellationToken cancellationToken)
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
        intents.RequestTermination(serviceId);
        Enqueue(new OrchestrationCommand(CommandKind.Terminate, serviceId));
    }

    /// <summary>
    /// What DELETE does: a service that has ended is terminated at once (leftovers of failed deploys go) and forgotten
    /// (null is returned); any other is terminated, and the
    /// service is returned as it is once that is under way (its live images STOPPING). The termination is stored before
    /// this returns (<see cref="IServiceStore.MarkTerminationAsync"/>: a deploy that holds the service's lock cannot
    /// write over it), so a restart finishes it whenever the agent is killed; the STOPPING images are stored at once too
    /// when no other part works on the service.
    /// </summary>
    public async Task<Service?> EndAsync(Service service, CancellationToken cancellationToken)
    {
        if (service.HasEnded())
        {
            // Terminated first: what a failed deploy left at a node goes with the service (found by its labels).
            await terminator.TerminateAsync(service.Id, cancellationToken);
            using var gate = await locks.AcquireAsync(service.Id, cancellationToken);
            if ((await services.GetAsync(service.Id, cancellationToken))?.HasEnded() == true)
            {
                await services.RemoveAsync(service.Id, cancellationToken);
                intents.Forget(service.Id);
                log.LogInformation("Service {ServiceId} ({ServiceName}) removed", service.Id, service.ServiceName);
                return null;
            }
        }
        await services.MarkTerminationAsync(service.Id, cancellationToken);
        RequestTermination(service.Id);
        using (var held = locks.TryAcquire(service.Id))
        {
            if (held is not null && await services.GetAsync(service.Id, cancellationToken) is { } current)
            {
                var stopping = current.Stopping();
                if (stopping != current) await services.UpdateAsync(stopping, cancellationToken);
                return stopping;
            }
        }
        return service.Stopping();
    }

    private void Enqueue(OrchestrationCommand command)
    {
        // One queued deploy per service is enough: it deploys every image that needs it when it runs.
        if (command.Kind == CommandKind.Deploy && !_deploysQueued.TryAdd(command.ServiceId, true)) return;
        _commands.Writer.TryWrite(command);
    }

    /// <summary>Images that wait for a node are tried again (a node joined, capabilities grew, or the retry interval passed).</summary>
    public async Task RetryWaitingAsync(CancellationToken cancellationToken)
    {
        foreach (var service in await services.AllAsync(cancellationToken))
        {
            if (!intents.TerminationRequested(service.Id) && service.Images.Any(Deployer.Waits))
                Enqueue(new OrchestrationCommand(CommandKind.Deploy, service.Id));
        }
    }

    /// <summary>
    /// Work left over from a previous run: interrupted terminations finished (a DELETE that was answered is one, even
    /// when the agent was killed before any image was STOPPING), undeployed images deployed.
    /// </summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        var terminations = await services.TerminationsAsync(cancellationToken);
        foreach (var service in await services.AllAsync(cancellationToken))
        {
            if (service.Images.Any(i => i.State == ImageState.Stopping) || (terminations.Contains(service.Id) && !service.HasEnded()))
                RequestTermination(service.Id);
            else if (service.Images.Any(Deployer.NeedsDeployment))
                Enqueue(new OrchestrationCommand(CommandKind.Deploy, service.Id));
        }
    }

    /// <summary>Runs one command to its end.</summary>
    public Task RunAsync(OrchestrationCommand command, CancellationToken cancellationToken) => command.Kind switch
    {
        CommandKind.Deploy => DeployAsync(command.ServiceId, cancellationToken),
        _ => terminator.TerminateAsync(command.ServiceId, cancellationToken),
    };

    /// <summary>One reconcile pass (see <see cref="Reconciler.ReconcileAsync"/>).</summary>
    public Task ReconcileAsync(CancellationToken cancellationToken) => reconciler.ReconcileAsync(cancellationToken);

    /// <summary>Deploys every image of the service that needs it, in order, under the service's lock; stops when a termination is asked for.</summary>
    private async Task DeployAsync(string serviceId, CancellationToken cancellationToken)
    {
        _deploysQueued.TryRemove(serviceId, out _);
        using var held = await locks.AcquireAsync(serviceId, cancellationToken);
        var service = await services.GetAsync(serviceId, cancellationToken);
        for (var index = 0; service is not null && index < service.Images.Count; index++)
        {
            if (intents.TerminationRequested(serviceId)) return;
            if (!Deployer.NeedsDeployment(service.Images[index])) continue;
            try
            {
                service = await reconciler.DeployAndFollowAsync(service, index, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A fault of the agent itself, not of a node (those are handled inside): the image must not stay INITIAL.
                log.LogError(e, "Deploying image {Index} of service {ServiceId} failed unexpectedly", index, serviceId);
                service = await services.GetAsync(serviceId, cancellationToken) ?? service;
                service = await services.SaveImageAsync(service, index, service.Images[index] with
                {
                    State = ImageState.Error, StateMessage = $"the deploy failed unexpectedly: {e.Message} (see the agent's log)",
                }, cancellationToken);
            }
        }
    }
}

/// <summary>A service of the same name has not ended: a second one would make DELETE by name ambiguous.</summary>
public sealed class DuplicateServiceException(Service existing)
    : Exception($"a service named '{existing.ServiceName}' exists (id {existing.Id}, {existing.State}); delete it first or choose another name")
{
    /// <summary>The service that has the name.</summary>
    public Service Existing { get; } = existing;
}
