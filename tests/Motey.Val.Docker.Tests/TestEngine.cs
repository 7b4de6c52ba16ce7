using Docker.DotNet;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// A Docker.DotNet client of the engine the tests run against (<see cref="LocalDocker"/>: the one
/// scripts/test-services.sh starts, with its local busybox image). When it is missing the tests fail (never skip) and
/// say how to start it.
/// </summary>
internal static class TestEngine
{
    /// <summary>A client of the engine once it has answered and has the busybox image; otherwise a failure saying what to run.</summary>
    public static async Task<DockerClient> ConnectAsync()
    {
        var client = new DockerClientConfiguration(new Uri(LocalDocker.Url)).CreateClient();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.System.PingAsync(deadline.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            client.Dispose();
            throw new InvalidOperationException(
                $"The Docker engine at {LocalDocker.Url} does not answer ({e.Message}). Start it with scripts/test-services.sh, then run the tests again.", e);
        }
        try
        {
            await client.Images.InspectImageAsync(LocalDocker.Busybox);
        }
        catch (DockerImageNotFoundException e)
        {
            client.Dispose();
            throw new InvalidOperationException(
                $"The Docker engine at {LocalDocker.Url} has no image {LocalDocker.Busybox}. Build it with scripts/test-services.sh, then run the tests again.", e);
        }
        return client;
    }
}
