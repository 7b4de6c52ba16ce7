using Motey.Host.Core.Membership;
using Motey.Host.Peers;

namespace Motey.Host.Membership;

/// <summary>
/// Makes a peer's ZeroMQ answers its last-seen time in the nodes table (an MQTT register already is): the answers come
/// from <see cref="PeerAnswers"/>, which passes on one per node every few seconds at most.
/// </summary>
internal sealed class LastSeenRecorder(PeerAnswers answers, ClusterNodes nodes, ILogger<LastSeenRecorder> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
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
}
