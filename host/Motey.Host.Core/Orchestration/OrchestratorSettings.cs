namespace Motey.Host.Core.Orchestration;

/// <summary>[ORCHESTRATOR]: how often instances are followed and how replacements back off.</summary>
/// <param name="ReconcileInterval">Time between two reconcile passes.</param>
/// <param name="RestartBackoff">Delay before the first replacement of an ended instance.</param>
/// <param name="RestartBackoffMax">The longest delay, however often the image was replaced.</param>
public sealed record OrchestratorSettings(TimeSpan ReconcileInterval, TimeSpan RestartBackoff, TimeSpan RestartBackoffMax)
{
    /// <summary>How often images that wait for a node are tried again when nothing told of a change ([ORCHESTRATOR] wait_retry).</summary>
    public TimeSpan WaitRetry { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often this node asks the placing nodes whether the instances it runs for them are still theirs ([ORCHESTRATOR] fence_interval).</summary>
    public TimeSpan FenceInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an instance placed by a node that is not in the cluster keeps running before it is stopped as nobody's
    /// ([ORCHESTRATOR] orphan_grace). Its placing node places it again if it comes back later.
    /// </summary>
    public TimeSpan OrphanGrace { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Nodes one deploy of an image tries before the image ends ERROR: a broken image fails everywhere, fast or not.</summary>
    public const int MaxDeployAttempts = 3;

    /// <summary>restart_backoff, doubled for each earlier restart, at most restart_backoff_max.</summary>
    public TimeSpan Backoff(int restarts)
    {
        var factor = Math.Pow(2, Math.Min(restarts, 30));
        return TimeSpan.FromSeconds(Math.Min(RestartBackoff.TotalSeconds * factor, RestartBackoffMax.TotalSeconds));
    }
}
