using Docker.DotNet;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// The Docker engine the tests run against: the one scripts/test-services.sh starts, with its local busybox image.
/// When it is missing the tests fail (never skip) and say how to start it.
/// </summary>
internal static class TestEngine
{
    public const string Url = "unix:///var/run/docker.sock";

    /// <summary>The only image here (no registry is reachable): static busybox, CMD /bin/sh, PATH=/bin.</summary>
    public const string Busybox = "motey/busybox:local";

    /// <summary>A client of the engine once it has answered and has the busybox image; otherwise a failure saying what to run.</summary>
    public static async Task<DockerClient> ConnectAsync()
    {
        var client = new DockerClientConfiguration(new Uri(Url)).CreateClient();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.System.PingAsync(deadline.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            client.Dispose();
            throw new InvalidOperationException(
                $"The Docker engine at {Url} does not answer ({e.Message}). Start it with scripts/test-services.sh, then run the tests again.", e);
        }
        try
        {
            await client.Images.InspectImageAsync(Busybox);
        }
        catch (DockerImageNotFoundException e)
        {
            client.Dispose();
            throw new InvalidOperationException(
                $"The Docker engine at {Url} has no image {Busybox}. Build it with scripts/test-services.sh, then run the tests again.", e);
        }
        return client;
    }
}
