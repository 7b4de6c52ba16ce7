using Motey.Abstractions;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Nodes;

/// <summary>The active VAL of each engine on this node (the plugin catalog in production).</summary>
public interface IEngines
{
    /// <summary>The active VAL for <paramref name="engine"/>; null when none is active.</summary>
    IValPlugin? Find(string engine);

    /// <summary>Every active VAL.</summary>
    IReadOnlyList<IValPlugin> Active => [];

    /// <summary>
    /// Marks a call into <paramref name="val"/> as running until the result is disposed, so that a VAL being replaced
    /// while the node runs is deactivated only once the calls already made on it are done; null when nothing counts them.
    /// </summary>
    IDisposable? BeginCall(IValPlugin val) => null;

    /// <summary>Why <paramref name="engine"/> has no active VAL, when the engines know more than that (a plugin folder removed); else null.</summary>
    string? Missing(string engine) => null;
}

/// <summary>What the VALs run now, and the engines that could not tell (engine → why).</summary>
public sealed record InstanceListing(IReadOnlyList<(string Engine, ValInstance Instance)> Instances, IReadOnlyDictionary<string, string> Unanswered);

/// <param name="CallTimeout">How long any one call into a VAL may take ([PLUGINS] call_timeout).</param>
public sealed record LocalNodeSettings(TimeSpan CallTimeout);

/// <summary>This node, reached in-process: its capabilities from the store, its instances through the VAL of each engine.</summary>
public sealed class LocalNode(
    NodeIdentity identity,
    ICapabilityStore capabilities,
    IEngines plugins,
    LocalNodeSettings settings) : INodeClient
{
    public string Address => identity.Address;

    public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) =>
        capabilities.AllAsync(cancellationToken);

    public async Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var val = Val(image.Engine);
        // The VAL's checks, policy included, before anything is pulled or created: a deploy a peer asks for was never
        // checked at this node's POST, and a stored image may predate a stricter policy.
        if (val.ValidateImage(image.Name, RestartPolicies.ForVal(image.Parameters)) is { Count: > 0 } problems)
            throw new ValException(string.Join("; ", problems));
        // An instance with these labels exists when a deploy was cut short (agent killed) after the VAL
        // created it but before its id was stored: adopt it instead of starting a second one.
        if (await FindByLabelsAsync(val, labels, cancellationToken) is { } existing)
        {
            // Killed between create and start, it may never have been started.
            var state = await Call(val, "report the instance state", ct => val.GetInstanceStateAsync(existing.Id, ct), cancellationToken);
            if (state is ImageState.Initial or ImageState.Instantiating)
                await Call(val, "start the instance", async ct => { await val.StartInstanceAsync(existing.Id, ct); return true; }, cancellationToken);
            return existing.Id;
        }

        if (!await Call(val, "check the image", ct => val.HasImageAsync(image.Name, ct), cancellationToken))
            await Call(val, "load the image", async ct => { await val.LoadImageAsync(image.Name, ct); return true; }, cancellationToken);
        var id = await Call(val, "create an instance",
            ct => val.CreateInstanceAsync(new InstanceSpec(image.Name, RestartPolicies.ForVal(image.Parameters), labels), ct), cancellationToken);
        await Call(val, "start the instance", async ct => { await val.StartInstanceAsync(id, ct); return true; }, cancellationToken);
        return id;
    }

    public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken)
    {
        var val = Val(image.Engine);
        return Call(val, "report the instance state", ct => val.GetInstanceStateAsync(image.Id, ct), cancellationToken);
    }

    public async Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var val = Val(image.Engine);
        // One listing, each leftover once: listing again until none is left never ended for a VAL that kept listing
        // an instance it had stopped and removed, holding the service's lock for good.
        foreach (var leftover in await FindAllByLabelsAsync(val, labels, cancellationToken))
        {
            await Call(val, "stop the instance", async ct => { await val.StopInstanceAsync(leftover.Id, ct); return true; }, cancellationToken);
            await Call(val, "remove the instance", async ct => { await val.RemoveInstanceAsync(leftover.Id, ct); return true; }, cancellationToken);
        }
    }

    private async Task<ValInstance?> FindByLabelsAsync(IValPlugin val, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
        await FindAllByLabelsAsync(val, labels, cancellationToken) is [var first, ..] ? first : null;

    private async Task<IReadOnlyList<ValInstance>> FindAllByLabelsAsync(IValPlugin val, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var running = await RunningAsync(val, cancellationToken);
        // Who placed it and in which generation do not make another instance: a placement retried on this node adopts
        // what an earlier one left (the fence decides about instances of older placements by their ids).
        var identity = labels.Where(l => l.Key is not (InstanceLabels.PlacedBy or InstanceLabels.Generation)).ToList();
        return running.Where(i => identity.All(l => i.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
    }

    /// <summary>
    /// The instances of every engine that answered, and why each other engine did not: one engine down (Docker restarting,
    /// say) never hides the instances of the others, so the fence keeps confirming them. An engine left out is only left
    /// out: nothing is concluded about its instances from their absence.
    /// </summary>
    public async Task<InstanceListing> ListInstancesByEngineAsync(CancellationToken cancellationToken)
    {
        var lists = await Task.WhenAll(plugins.Active.Select(async val =>
        {
            try
            {
                var running = await RunningAsync(val, cancellationToken);
                return (Engine: val.PluginType, Instances: running, Error: (string?)null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return (Engine: val.PluginType, Instances: (IReadOnlyList<ValInstance>)[], Error: e.Message);
            }
        }));
        return new InstanceListing(
            lists.SelectMany(l => l.Instances.Select(i => (l.Engine, i))).ToList(),
            lists.Where(l => l.Error is not null).ToDictionary(l => l.Engine, l => l.Error!, StringComparer.Ordinal));
    }

    private Task<IReadOnlyList<ValInstance>> RunningAsync(IValPlugin val, CancellationToken cancellationToken) =>
        Call(val, "list running instances", ct => val.GetRunningInstancesAsync(ct), cancellationToken);

    public async Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken)
    {
        var val = Val(image.Engine);
        var stats = await Call(val, "report the instance's exit code", ct => val.GetStatsAsync(image.Id, ct), cancellationToken);
        return stats?.ExitCode;
    }

    public async Task TerminateImageAsync(Image image, CancellationToken cancellationToken)
    {
        var val = Val(image.Engine);
        await Call(val, "stop the instance", async ct => { await val.StopInstanceAsync(image.Id, ct); return true; }, cancellationToken);
        await Call(val, "remove the instance", async ct => { await val.RemoveInstanceAsync(image.Id, ct); return true; }, cancellationToken);
    }

    /// <summary>
    /// The VAL's reader of the instance's output, once the instance is known to be there and, where the VAL lists it,
    /// labelled as that image of that service (a stale or foreign id reads nothing). An instance that has ended is not
    /// listed, so only the VAL vouches for it (a VAL reads only its own instances); one that is not listed and has not
    /// ended is refused.
    /// </summary>
    public async Task<IAsyncEnumerable<LogLine>> ReadLogsAsync(LogTarget target, LogRequest request, CancellationToken cancellationToken)
    {
        var val = Val(target.Engine);
        if (!await Call(val, "look the instance up", ct => val.HasInstanceAsync(target.InstanceId, ct), cancellationToken))
            throw new NoInstanceException($"instance {target.InstanceId} does not exist on node {Address}");
        var listed = (await RunningAsync(val, cancellationToken)).FirstOrDefault(i => i.Id == target.InstanceId);
        var index = target.ImageIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var notIt = $"instance {target.InstanceId} on node {Address} is not image {index} of service {target.ServiceId}";
        if (listed is not null && !(listed.Labels.GetValueOrDefault(InstanceLabels.ServiceId) == target.ServiceId
                                    && listed.Labels.GetValueOrDefault(InstanceLabels.ImageIndex) == index))
            throw new NoInstanceException(notIt);
        if (listed is null)
        {
            // Not listed: fine only for an instance that has ended (its output stays readable). One that runs but is
            // not listed under this id is another name for something (an engine's container name or id prefix), or not
            // this agent's at all: the label check above must not be skipped for it.
            var state = await Call(val, "read the instance's state", ct => val.GetInstanceStateAsync(target.InstanceId, ct), cancellationToken);
            if (state is not (ImageState.Terminated or ImageState.Error))
                throw new NoInstanceException($"{notIt}: it is {Events.EventTypes.StateName(state)} but not listed as one of its instances");
        }
        // The contract's default throws NotSupportedException right here, before any enumeration.
        return val.ReadLogsAsync(target.InstanceId, request, cancellationToken);
    }

    private IValPlugin Val(string engine) =>
        plugins.Find(engine) ?? throw new ValException(plugins.Missing(engine) is { } why
            ? $"engine '{engine}' is not loaded on node {Address}: {why}"
            : $"engine '{engine}' has no active plugin on node {Address}");

    /// <summary>Every VAL call is bounded: a plugin that hangs costs one timeout, never the orchestrator.</summary>
    private async Task<T> Call<T>(IValPlugin val, string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var timeout = settings.CallTimeout;
        using var running = plugins.BeginCall(val);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await call(cts.Token).WaitAsync(timeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ValException($"the {val.PluginType} plugin did not {what} within {timeout.TotalSeconds:0.###} s");
        }
    }
}
