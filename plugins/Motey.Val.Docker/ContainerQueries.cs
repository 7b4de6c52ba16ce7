using Docker.DotNet;
using Docker.DotNet.Models;

namespace Motey.Val.Docker;

/// <summary>Read-only questions to the engine about containers, where "no such container" is an answer, not an error.</summary>
internal static class ContainerQueries
{
    /// <summary>The container, or null when the engine does not know it.</summary>
    public static Task<ContainerInspectResponse?> InspectAsync(DockerEngine engine, string instanceId, CancellationToken cancellationToken) =>
        engine.CallAsync<ContainerInspectResponse?>($"inspecting container {instanceId}", async (client, token) =>
        {
            try
            {
                return await client.Containers.InspectContainerAsync(instanceId, token).ConfigureAwait(false);
            }
            catch (DockerContainerNotFoundException)
            {
                return null;
            }
        }, cancellationToken);

    /// <summary>
    /// One stats sample, with the engine's previous one in <c>precpu_stats</c> (so it takes the engine about a second);
    /// null when the container is gone.
    /// </summary>
    public static Task<ContainerStatsResponse?> SampleAsync(DockerEngine engine, string instanceId, CancellationToken cancellationToken) =>
        engine.CallAsync<ContainerStatsResponse?>($"reading the stats of container {instanceId}", async (client, token) =>
        {
            var last = new LastReport();
            try
            {
                await client.Containers.GetContainerStatsAsync(
                    instanceId, new ContainerStatsParameters { Stream = false }, last, token).ConfigureAwait(false);
            }
            catch (DockerContainerNotFoundException)
            {
                return null;
            }
            return last.Value;
        }, cancellationToken);

    /// <summary>Keeps the last sample. Called synchronously by the reader (<see cref="Progress{T}"/> would post it later).</summary>
    private sealed class LastReport : IProgress<ContainerStatsResponse>
    {
        public ContainerStatsResponse? Value { get; private set; }

        public void Report(ContainerStatsResponse value) => Value = value;
    }
}
