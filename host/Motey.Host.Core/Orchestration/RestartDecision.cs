using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Orchestration;

/// <summary>
/// What becomes of an image whose instance ended without the agent stopping it, per its restart policy: replaced
/// after a backoff (the image shows INSTANTIATING meanwhile), or left TERMINATED (exit code 0) or ERROR.
/// </summary>
/// <param name="Restart">True: the instance is replaced after <paramref name="Delay"/>.</param>
/// <param name="Delay">The backoff before the replacement.</param>
/// <param name="State">The image's state from now on.</param>
/// <param name="Message">The image's state message: what ended and what happens next.</param>
public sealed record RestartDecision(bool Restart, TimeSpan Delay, ImageState State, string Message)
{
    /// <summary>
    /// The decision for <paramref name="image"/>: <paramref name="exitCode"/> null when unknown (counts as a failure),
    /// <paramref name="nodeLeft"/> true when its node left the cluster with the instance.
    /// </summary>
    public static RestartDecision For(Image image, int? exitCode, bool nodeLeft, OrchestratorSettings settings)
    {
        var ended = nodeLeft ? $"node {image.Node} left the cluster with instance {image.Id}"
            : exitCode is null ? $"instance {image.Id} ended (exit code unknown)"
            : $"instance {image.Id} ended with exit code {exitCode}";
        var policy = RestartPolicies.Of(image);
        var failed = exitCode != 0;
        if (policy == RestartPolicy.Never || (policy == RestartPolicy.OnFailure && !failed))
        {
            return new RestartDecision(false, TimeSpan.Zero, failed ? ImageState.Error : ImageState.Terminated,
                $"{ended}; not restarted (restart policy {RestartPolicies.Show(policy)})");
        }
        var delay = settings.Backoff(image.Restarts);
        return new RestartDecision(true, delay, ImageState.Instantiating,
            $"{ended}; restart {image.Restarts + 1} in {delay.TotalSeconds:0.###} s (restart policy {RestartPolicies.Show(policy)})");
    }
}
