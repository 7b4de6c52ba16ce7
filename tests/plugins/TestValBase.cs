using System.Collections.Concurrent;
using System.Text.Json;
using Motey.Abstractions;

namespace Motey.TestVal;

/// <summary>
/// A minimal in-memory VAL shared (as source) by the test plugins; each plugin overrides only what it
/// tests. Instances run as soon as they are started.
/// </summary>
public abstract class TestValBase : IValPlugin
{
    private readonly ConcurrentDictionary<string, (InstanceSpec Spec, ImageState State)> _instances = new();

    public abstract string PluginType { get; }

    public virtual Task ActivateAsync(ValContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    public virtual Task DeactivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public virtual Task<EngineHealth> CheckEngineAsync(CancellationToken cancellationToken) => Task.FromResult(EngineHealth.Available);
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters) => [];
    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken) => Task.FromResult(true);
    public Task LoadImageAsync(string imageName, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The id of a new instance; a test plugin can make it carry what the test must observe.</summary>
    protected virtual string NewId(InstanceSpec spec) => Guid.NewGuid().ToString("N");

    public Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var id = NewId(spec);
        _instances[id] = (spec, ImageState.Instantiating);
        return Task.FromResult(id);
    }

    public Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken) => Set(instanceId, ImageState.Running);
    public Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken) => Set(instanceId, ImageState.Terminated);

    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        _instances.TryRemove(instanceId, out _);
        return Task.CompletedTask;
    }

    public Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(_instances.ContainsKey(instanceId));

    public Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ValInstance>>(_instances
            .Where(i => i.Value.State == ImageState.Running)
            .Select(i => new ValInstance(i.Key, i.Value.Spec.ImageName, i.Value.Spec.Labels)).ToList());

    public Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(_instances.TryGetValue(instanceId, out var i)
            ? new ValInstanceStatus { Name = instanceId, ImageName = i.Spec.ImageName, Status = i.State }
            : null);

    public Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken) => Task.FromResult(new SystemStatus());

    public Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(_instances.TryGetValue(instanceId, out var i) ? i.State : ImageState.Terminated);

    private Task Set(string instanceId, ImageState state)
    {
        if (_instances.TryGetValue(instanceId, out var i)) _instances[instanceId] = (i.Spec, state);
        return Task.CompletedTask;
    }
}
