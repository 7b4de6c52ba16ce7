using System.Text.Json;
using Motey.Abstractions;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>
/// A VAL whose instances live in memory; <see cref="HangIn"/> makes one member hang, ignoring or honouring
/// cancellation. The members the local node does not use are not supported.
/// </summary>
internal sealed class FakeVal : IValPlugin
{
    private readonly Dictionary<string, (IReadOnlyDictionary<string, string> Labels, ImageState State, int? ExitCode)> _instances = [];
    private readonly TaskCompletionSource _hanging = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _next;

    public string PluginType { get; init; } = "fake";
    public HashSet<string> Images { get; } = [];
    public List<string> Loaded { get; } = [];
    public List<InstanceSpec> Created { get; } = [];
    public List<string> Removed { get; } = [];
    public int Starts { get; private set; }

    /// <summary>The member that never answers.</summary>
    public string? HangIn { get; set; }

    /// <summary>The member that throws, as a plugin whose engine went away.</summary>
    public string? FailIn { get; set; }
    public bool HonoursCancellation { get; set; }

    /// <summary>Stop and remove answer success but change nothing: the instance is listed as before.</summary>
    public bool KeepsRemovedInstances { get; set; }

    /// <summary>Completes when a call started to hang.</summary>
    public Task Hanging => _hanging.Task;

    public string Add(IReadOnlyDictionary<string, string> labels, ImageState state, int? exitCode = null)
    {
        var id = $"fake-{++_next}";
        _instances[id] = (labels, state, exitCode);
        return id;
    }

    /// <summary>Other names an engine also finds an instance by (as Docker does a container's name or an id prefix).</summary>
    public Dictionary<string, string> Aliases { get; } = [];

    private string Resolve(string id) => Aliases.GetValueOrDefault(id, id);

    public ImageState StateOf(string id) => _instances.TryGetValue(Resolve(id), out var i) ? i.State : ImageState.Terminated;

    private async Task<T> AnswerAsync<T>(string member, Func<T> answer, CancellationToken cancellationToken)
    {
        if (FailIn == member) throw new InvalidOperationException($"the {PluginType} engine does not answer");
        if (HangIn == member)
        {
            _hanging.TrySetResult();
            if (HonoursCancellation) await Task.Delay(Timeout.Infinite, cancellationToken);
            else await new TaskCompletionSource().Task;
        }
        return answer();
    }

    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(HasImageAsync), () => Images.Contains(imageName), cancellationToken);

    public Task LoadImageAsync(string imageName, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(LoadImageAsync), () => { Loaded.Add(imageName); return Images.Add(imageName); }, cancellationToken);

    public Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(CreateInstanceAsync), () => { Created.Add(spec); return Add(spec.Labels, ImageState.Initial); }, cancellationToken);

    public Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(StartInstanceAsync), () => { Starts++; return _instances[instanceId] = _instances[instanceId] with { State = ImageState.Running }; }, cancellationToken);

    public Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(StopInstanceAsync), () =>
        {
            if (!KeepsRemovedInstances && _instances.TryGetValue(instanceId, out var i)) _instances[instanceId] = i with { State = ImageState.Terminated, ExitCode = 0 };
            return true;
        }, cancellationToken);

    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(RemoveInstanceAsync), () => { Removed.Add(instanceId); return !KeepsRemovedInstances && _instances.Remove(instanceId); }, cancellationToken);

    public Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken) =>
        AnswerAsync<IReadOnlyList<ValInstance>>(nameof(GetRunningInstancesAsync), () => _instances
            .Where(i => i.Value.State is ImageState.Initial or ImageState.Instantiating or ImageState.Running)
            .Select(i => new ValInstance(i.Key, "sensor", i.Value.Labels)).ToList(), cancellationToken);

    public Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(GetStatsAsync), () => _instances.TryGetValue(instanceId, out var i)
            ? new ValInstanceStatus { Name = instanceId, ImageName = "sensor", Status = i.State, ExitCode = i.ExitCode }
            : null, cancellationToken);

    public Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(GetInstanceStateAsync), () => StateOf(instanceId), cancellationToken);

    public Task ActivateAsync(ValContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DeactivateAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters) => [];  // asked again before every deploy
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        AnswerAsync(nameof(HasInstanceAsync), () => _instances.ContainsKey(Resolve(instanceId)), cancellationToken);

    /// <summary>One line naming the instance read, so a test sees whose output it got.</summary>
    public async IAsyncEnumerable<LogLine> ReadLogsAsync(string instanceId, LogRequest request,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        yield return new LogLine(null, LogSource.Output, $"output of {Resolve(instanceId)}");
    }
    public Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
}
