using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Placement;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>
/// The real orchestrator and its parts (placer, deployer, reconciler, terminator, locks, intents) on fake nodes, a
/// fake directory, a store in memory and a clock the test moves. Commands are run by the test, one at a time, instead
/// of by the worker, so every step is deterministic.
/// </summary>
internal sealed class Cluster
{
    /// <summary>Long enough for any step of a test here to end; a step that does not is a failure, not a hang.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>First replacement after 5 s, doubling up to 60 s.</summary>
    public static readonly OrchestratorSettings Settings = new(
        ReconcileInterval: TimeSpan.FromSeconds(1), RestartBackoff: TimeSpan.FromSeconds(5), RestartBackoffMax: TimeSpan.FromSeconds(60));

    public Cluster(FakeNode local, params FakeNode[] peers) : this(new FakeServiceStore(), local, peers)
    {
    }

    private Cluster(FakeServiceStore store, FakeNode local, FakeNode[] peers)
    {
        Store = store;
        Local = local;
        Peers = peers;
        Directory = new FakeDirectory(peers, local);
        Intents = new ServiceIntents(Clock);
        var placer = new Placer(local, Directory, new CapabilityView(), new PlacementSettings(TimeSpan.FromSeconds(1)), NullLogger<Placer>.Instance);
        var deployer = new Deployer(Store, placer, Directory, Intents, new NodeIdentity(local.Address), NullLogger<Deployer>.Instance);
        Reconciler = new Reconciler(Store, Directory, deployer, Locks, Intents, Settings, NullLogger<Reconciler>.Instance);
        var terminator = new Terminator(Store, Directory, Locks, Intents, NullLogger<Terminator>.Instance);
        Orchestrator = new Orchestrator(Store, Reconciler, terminator, Locks, Intents, NullLogger<Orchestrator>.Instance);
    }

    public FakeNode Local { get; }
    public IReadOnlyList<FakeNode> Peers { get; }
    public IEnumerable<FakeNode> Nodes => [Local, .. Peers];
    public FakeDirectory Directory { get; }
    public FakeServiceStore Store { get; }
    public ManualClock Clock { get; } = new();
    public ServiceLocks Locks { get; } = new();
    public ServiceIntents Intents { get; }
    public Reconciler Reconciler { get; }
    public Orchestrator Orchestrator { get; }

    /// <summary>
    /// The agent started again after a kill -9: a new orchestrator on the same store and nodes, with nothing of this
    /// one's memory (intents, locks, queued commands).
    /// </summary>
    public Cluster Restarted() => new(Store, Local, [.. Peers]);

    /// <summary>How many instances run on all nodes together.</summary>
    public int InstancesRunning => Nodes.Sum(n => n.Running.Count);

    /// <summary>Accepts a service of these images and runs its deployment to the end.</summary>
    public async Task<Service> DeployAsync(params Image[] images)
    {
        var accepted = await AcceptAsync(images);
        await RunQueuedAsync();
        return Store.Get(accepted.Id);
    }

    /// <summary>Accepts a service of these images; its deployment waits in the queue.</summary>
    public Task<Service> AcceptAsync(params Image[] images) =>
        Orchestrator.AcceptAsync(new Blueprint($"svc{Interlocked.Increment(ref _services)}", null, images), CancellationToken.None);

    private int _services;

    /// <summary>Runs the next queued command to its end.</summary>
    public async Task RunNextAsync()
    {
        Assert.True(Orchestrator.Commands.TryRead(out var command), "a command waits in the queue");
        await Orchestrator.RunAsync(command, CancellationToken.None).WaitAsync(Deadline);
    }

    /// <summary>Runs the queued commands, and those they queue, to their end.</summary>
    public async Task RunQueuedAsync()
    {
        while (Orchestrator.Commands.TryRead(out var command))
            await Orchestrator.RunAsync(command, CancellationToken.None).WaitAsync(Deadline);
    }

    /// <summary>One reconcile pass.</summary>
    public Task ReconcileAsync() => Orchestrator.ReconcileAsync(CancellationToken.None).WaitAsync(Deadline);

    /// <summary>Asks for the service's termination and runs it.</summary>
    public async Task<Service> TerminateAsync(string serviceId)
    {
        Orchestrator.RequestTermination(serviceId);
        await RunQueuedAsync();
        return Store.Get(serviceId);
    }

    /// <summary>The image as stored now.</summary>
    public Image Image(string serviceId, int index = 0) => Store.Get(serviceId).Images[index];

    /// <summary>Every state message the image has had, oldest first, without repeats.</summary>
    public IReadOnlyList<string> MessagesOf(string serviceId, int index = 0) =>
        Store.History.Where(s => s.Id == serviceId).Select(s => s.Images[index].StateMessage).Distinct().ToList();

    /// <summary>An image for the simulated engine needing <paramref name="capabilities"/>.</summary>
    public static Image ImageNeeding(params string[] capabilities) =>
        new() { Name = "sensor", Engine = "simulated", Capabilities = capabilities };

    /// <summary>As <see cref="ImageNeeding"/>, with <c>parameters.restart_policy</c> set.</summary>
    public static Image ImageWithPolicy(string policy, params string[] capabilities) => ImageNeeding(capabilities) with
    {
        Parameters = new Dictionary<string, JsonElement> { [RestartPolicies.Key] = JsonSerializer.SerializeToElement(policy) },
    };
}
