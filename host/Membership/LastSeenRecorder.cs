using Motey.Host.Core.Membership;
using Motey.Host.Core.Placement;
using Motey.Host.Peers;

namespace Motey.Host.Membership;

/// <summary>
/// Makes a peer's ZeroMQ answers its last-seen time in the nodes table (an MQTT register already is): the answers come
/// from <see cref="PeerAnswers"/>, which passes on one per node every few seconds at most. A peer that let a request
/// time out is suspected, when it published a presence (a Motey.NET node): the direct checks ask it, keep it when it
/// answers and drop it when it does not (its leave may never have reached this node: a broker or bridge outage, a
/// presence nobody cleared).
/// </summary>
internal sealed class LastSeenRecorder(
    PeerAnswers answers, ClusterNodes nodes, DirectPeerChecks checks, CapabilityView view, ILogger<LastSeenRecorder> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(RecordAnswersAsync(stoppingToken), SuspectSilentAsync(stoppingToken));

    private async Task RecordAnswersAsync(CancellationToken stoppingToken)
    {
        await foreach (var address in answers.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await nodes.SeenAsync(address, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Could not record that node {Address} answered", address);
            }
        }
    }

    private async Task SuspectSilentAsync(CancellationToken stoppingToken)
    {
        await foreach (var (address, problem) in answers.Unanswered.ReadAllAsync(stoppingToken))
        {
            // Only Motey.NET nodes (they publish a presence): they stop an instance whose placing node placed it elsewhere
            // meanwhile, so a wrong drop (this node alone cannot reach it) costs no second copy. An original node
            // cannot, and leaves by its last will as before.
            if (view.Find(address) is null || !nodes.Suspect(address)) continue;  // not listed, or already being checked
            log.LogInformation("Checking node {Address} directly: {Problem}", address, problem);
            checks.Wake();
        }
    }
}
