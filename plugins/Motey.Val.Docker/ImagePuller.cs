using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>Pulls an image with a deadline, failing with the engine's own words.</summary>
internal static class ImagePuller
{
    public static async Task PullAsync(DockerEngine engine, string imageName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (fromImage, tag) = ImageReference.ForPull(imageName);
        var progress = new PullProgress();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await engine.CallAsync(
                $"pulling image '{imageName}'",
                (client, token) => client.Images.CreateImageAsync(
                    new ImagesCreateParameters { FromImage = fromImage, Tag = tag }, null, progress, token),
                deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ValException($"pulling image '{imageName}' took longer than [DOCKER] pull_timeout ({timeout.TotalSeconds:0} s)");
        }
        // Once the pull has started the engine answers 200, so a later failure only shows in the progress stream.
        if (progress.Error is { } error) throw new ValException($"pulling image '{imageName}' failed: {error}");
    }

    /// <summary>Keeps the first error of the stream. Called synchronously by the reader (<see cref="Progress{T}"/> would post it later).</summary>
    private sealed class PullProgress : IProgress<JSONMessage>
    {
        public string? Error { get; private set; }

        public void Report(JSONMessage value)
        {
            var message = value.Error?.Message is { Length: > 0 } detail ? detail : value.ErrorMessage;
            if (Error is null && !string.IsNullOrWhiteSpace(message)) Error = message.Trim();
        }
    }
}
