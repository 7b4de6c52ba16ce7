namespace Motey.Host.Core.Placement;

/// <summary>
/// Tells the orchestrator that an image waiting for a node may now find one: this node's capabilities grew, a node
/// joined the cluster, or a Motey.NET peer published other capabilities (its presence). An original peer's capability
/// changes are not announced; waiting images are also tried again every <c>[ORCHESTRATOR] wait_retry</c>.
/// </summary>
public sealed class ClusterChanges : IDisposable
{
    private readonly SemaphoreSlim _changed = new(0, 1);

    /// <summary>Something changed; many notifications before the next wait count as one.</summary>
    public void Notify()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled
        }
    }

    /// <summary>Waits for the next change, at most <paramref name="timeout"/>; true when there was one.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _changed.WaitAsync(timeout, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _changed.Dispose();
}
