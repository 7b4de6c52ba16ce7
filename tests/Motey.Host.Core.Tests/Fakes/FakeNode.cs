using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>
/// A node whose answers a test sets: its capabilities, whether deploys fail, the state and exit code of its instances.
/// It keeps what it runs, so a test can count instances the way it would count processes.
/// </summary>
internal sealed class FakeNode(string address, params string[] capabilities) : INodeClient
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (Image Image, IReadOnlyDictionary<string, string> Labels)> _running = [];
    private int _next;

    public string Address => address;

    /// <summary>Engines this node has a VAL for.</summary>
    public List<string> Engines { get; } = ["simulated"];

    /// <summary>When set, every deploy throws with this message.</summary>
    public string? DeployFailure { get; set; }

    /// <summary>What GetImageStateAsync answers for a running instance.</summary>
    public ImageState State { get; set; } = ImageState.Running;

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

    public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Capability>>(
            [.. capabilities.Select(c => new Capability(c, "hardware")), .. Engines.Select(e => new Capability(e, Capability.PluginType))]);

    public Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Deploys++;
            if (DeployFailure is { } failure) throw new InvalidOperationException(failure);
            var id = $"{address}-{++_next}";
            _running[id] = (image, labels);
            return Task.FromResult(id);
        }
    }

    public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken)
    {
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
        lock (_gate)
        {
            Terminations++;
            _running.Remove(image.Id);
        }
        return Task.CompletedTask;
    }
}
