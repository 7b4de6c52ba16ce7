namespace Motey.Host.Core.Orchestration;

/// <summary>[ORCHESTRATOR]: how often instances are followed and how replacements back off.</summary>
/// <param name="ReconcileInterval">Time between two reconcile passes.</param>
/// <param name="RestartBackoff">Delay before the first replacement of an ended instance.</param>
/// <param name="RestartBackoffMax">The longest delay, however often the image was replaced.</param>
public sealed record OrchestratorSettings(TimeSpan ReconcileInterval, TimeSpan RestartBackoff, TimeSpan RestartBackoffMax)
{
    /// <summary>Nodes one deploy of an image tries before the image ends ERROR: a broken image fails everywhere, fast or not.</summary>
    public const int MaxDeployAttempts = 3;

    /// <summary>restart_backoff, doubled for each earlier restart, at most restart_backoff_max.</summary>
    public TimeSpan Backoff(int restarts)
    {
        var factor = Math.Pow(2, Math.Min(restarts, 30));
        return TimeSpan.FromSeconds(Math.Min(RestartBackoff.TotalSeconds * factor, RestartBackoffMax.TotalSeconds));
    }
}
