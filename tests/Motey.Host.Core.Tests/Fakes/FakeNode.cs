using Motey.Abstractions;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>
/// A node whose answers a test sets: its capabilities, whether deploys fail or hang, the state and exit code of its
/// instances, whether state queries and stops fail. It keeps what it runs with the labels each instance was created
/// with, so a test can count instances the way it would count processes, and see leftovers go.
/// </summary>
internal sealed class FakeNode(string address, params string[] capabilities) : INodeClient
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (Image Image, IReadOnlyDictionary<string, string> Labels)> _running = [];
    private readonly TaskCompletionSource _deployReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _next;

    public string Address => address;

    /// <summary>Engines this node has a VAL for.</summary>
    public List<string> Engines { get; } = ["simulated"];

    /// <summary>When set, every deploy throws with this message.</summary>
    public string? DeployFailure { get; set; }

    /// <summary>With <see cref="DeployFailure"/>: the engine created the instance before the deploy failed, so it is left behind.</summary>
    public bool FailAfterCreate { get; set; }

    /// <summary>Deploys wait until they are cancelled (a node that stopped answering).</summary>
    public bool DeployHangs { get; set; }

    /// <summary>Runs when a deploy reaches the node, before it succeeds or fails: a test acting while a deploy is under way.</summary>
    public Action? DuringDeploy { get; set; }

    /// <summary>Completes when the first deploy has reached the node.</summary>
    public Task DeployReached => _deployReached.Task;

    /// <summary>What GetImageStateAsync answers for a running instance.</summary>
    public ImageState State { get; set; } = ImageState.Running;

    /// <summary>When set, state queries throw with this message (a slow or unreachable node).</summary>
    public string? StateFailure { get; set; }

    /// <summary>When set, stopping an instance throws with this message.</summary>
    public string? StopFailure { get; set; }

    /// <summary>When set, asking for the capabilities throws with this message (the local node's store failing).</summary>
    public string? CapabilitiesFailure { get; set; }

    /// <summary>The exit code reported for an ended instance.</summary>
    public int? ExitCode { get; set; }

    public int Deploys { get; private set; }
    public int Terminations { get; private set; }

    /// <summary>Instances that run now, by id.</summary>
    public IReadOnlyCollection<string> Running
    {
        get
        {
            lock (_gate) return _running.Keys.ToList();
        }
    }

    /// <summary>The instance ends by itself (the process exits, the container dies).</summary>
    public void End(string instanceId)
    {
        lock (_gate) _running.Remove(instanceId);
    }

    /// <summary>Starts an instance as if another run of the agent had created it: found only by its labels.</summary>
    public string Start(Image image, IReadOnlyDictionary<string, string> labels)
    {
        lock (_gate) return Add(image, labels);
    }

    public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) =>
        CapabilitiesFailure is { } failure
            ? Task.FromException<IReadOnlyList<Capability>>(new InvalidOperationException(failure))
            : Task.FromResult<IReadOnlyList<Capability>>(
                [.. capabilities.Select(c => new Capability(c, "hardware")), .. Engines.Select(e => new Capability(e, Capability.PluginType))]);

    public async Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        lock (_gate) Deploys++;
        DuringDeploy?.Invoke();
        _deployReached.TrySetResult();
        if (DeployHangs) await Task.Delay(Timeout.Infinite, cancellationToken);
        lock (_gate)
        {
            if (DeployFailure is { } failure)
            {
                if (FailAfterCreate) Add(image, labels);
                throw new InvalidOperationException(failure);
            }
            return Add(image, labels);
        }
    }

    private string Add(Image image, IReadOnlyDictionary<string, string> labels)
    {
        var id = $"{address}-{++_next}";
        _running[id] = (image, labels);
        return id;
    }

    public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken)
    {
        if (StateFailure is { } failure) return Task.FromException<ImageState>(new TimeoutException(failure));
        lock (_gate) return Task.FromResult(_running.ContainsKey(image.Id) ? State : ImageState.Terminated);
    }

    public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => Task.FromResult(ExitCode);

    public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var leftover in _running.Where(r => labels.All(l => r.Value.Labels.GetValueOrDefault(l.Key) == l.Value)).Select(r => r.Key).ToList())
                _running.Remove(leftover);
        }
        return Task.CompletedTask;
    }

    public Task TerminateImageAsync(Image image, CancellationToken cancellationToken)
    {
        if (StopFailure is { } failure) return Task.FromException(new InvalidOperationException(failure));
        lock (_gate)
        {
            Terminations++;
            _running.Remove(image.Id);
        }
        return Task.CompletedTask;
    }

    /// <summary>How this node, as a placing node, answers fence requests; null: no opinion (an original node).</summary>
    public InstanceOwnership? Ownership { get; set; }

    /// <summary>When set, fence requests fail as an unreachable node's do.</summary>
    public bool Unreachable { get; set; }

    public async Task<IReadOnlyList<FenceVerdict>?> ConfirmInstancesAsync(string holder, IReadOnlyList<HeldInstance> held, CancellationToken cancellationToken)
    {
        if (Unreachable) throw new TimeoutException($"node {address} did not answer");
        return Ownership is null ? null : await Ownership.DecideAsync(holder, held, cancellationToken);
    }
}
