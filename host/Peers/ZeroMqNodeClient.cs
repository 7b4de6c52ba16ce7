using System.Globalization;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Peers;

/// <summary>
/// A remote node reached over its four ZeroMQ repliers (the seed's ZeroMQServer client half). Every request is
/// bounded by [ZEROMQ] request_timeout, a deploy by deploy_timeout (image pulls take long); failures and timeouts
/// throw a <see cref="PeerException"/> that names the node: a <see cref="PeerTimeoutException"/> when it did not answer,
/// a message saying "unreadable answer" when it answered something that is not what the request expects. Every
/// answer, readable or not, is told to <paramref name="answers"/>: the node is alive.
/// </summary>
internal sealed class ZeroMqNodeClient(
    string address, ZeroMqSettings settings, PeerRequester requester, PeerAnswers? answers = null, IMoteyMetrics? metrics = null) : INodeClient
{
    private readonly IMoteyMetrics _metrics = metrics ?? NoMetrics.Instance;

    public string Address => address;

    public async Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.CapabilitiesReplier, "", settings.RequestTimeout, cancellationToken);
        if (ErrorReason(reply) is { } reason) throw new PeerException($"node {address} could not list its capabilities: {reason}");
        return CapabilityReply.Read(reply, out var problem)
            ?? throw new PeerException($"node {address} gave an unreadable answer to the capabilities request ({problem}): '{Frames.Preview(reply)}'");
    }

    /// <summary>Sends the image with the labels as the <c>labels</c> extension; an empty answer is the original's "failed".</summary>
    public async Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.DeployImageReplier, ImageMessage.Write(image, labels), settings.DeployTimeout, cancellationToken);
        if (reply.Length == 0) throw new PeerException($"node {address} could not deploy image {image.Name} (see its log)");
        if (ErrorReason(reply) is { } reason) throw new PeerException($"node {address} could not deploy image {image.Name}: {reason}");
        return reply;
    }

    public async Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.ImageStatusReplier, ImageMessage.Write(image, null), settings.RequestTimeout, cancellationToken);
        if (int.TryParse(reply, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && Enum.IsDefined((ImageState)number))
            return (ImageState)number;
        throw new PeerException($"node {address} gave an unreadable answer to the status request of image {image.Name} (expected a state number from 0 to 5): '{Frames.Preview(reply)}'");
    }

    /// <summary>The protocol carries no exit codes.</summary>
    public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => Task.FromResult<int?>(null);

    /// <summary>The protocol has no removal by labels: the remote node's own adoption by labels is what guards against duplicates.</summary>
    public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The fence request on the capabilities replier; an answer that is no fence answer (an original node's list) is "no opinion".</summary>
    public async Task<IReadOnlyList<FenceVerdict>?> ConfirmInstancesAsync(string holder, IReadOnlyList<HeldInstance> held, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.CapabilitiesReplier, FenceMessage.WriteRequest(holder, held), settings.RequestTimeout, cancellationToken);
        if (ErrorReason(reply) is { } reason) throw new PeerException($"node {address} refused the fence request: {reason}");
        return FenceMessage.ReadReply(reply);
    }

    public async Task TerminateImageAsync(Image image, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.ImageTerminateReplier, ImageMessage.Write(image, null), settings.RequestTimeout, cancellationToken);
        if (reply.Length == 0) return;
        var reason = ErrorReason(reply) ?? $"unexpected answer '{Frames.Preview(reply)}'";
        throw new PeerException($"node {address} could not terminate image {image.Name}: {reason}");
    }

    private async Task<string> RequestAsync(int port, string request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var endpoint = PeerSockets.Tcp(address, port);
        var kind = Kind(port, request);
        try
        {
            var reply = await requester.RequestAsync(endpoint, request, timeout, cancellationToken);
            answers?.Answered(address);
            _metrics.PeerRequest(kind, reply.StartsWith(PeerRepliers.ErrorPrefix, StringComparison.Ordinal) ? PeerOutcome.Error : PeerOutcome.Ok);
            return reply;
        }
        catch (TimeoutException)
        {
            _metrics.PeerRequest(kind, PeerOutcome.Timeout);
            throw new PeerTimeoutException($"node {address} did not answer on {endpoint} within {timeout.TotalSeconds:0.###} s"
                + (requester.Secured ? " (a node without this cluster's key, or with another one, does not answer either)" : ""));
        }
        catch (PeerException e)
        {
            _metrics.PeerRequest(kind, PeerOutcome.Error);
            throw new PeerException($"node {address}: {e.Message}", e);
        }
    }

    /// <summary>What a request is, for the metrics: by its replier, and on the capabilities replier by its prefix.</summary>
    private string Kind(int port, string request) =>
        port == settings.DeployImageReplier ? "deploy"
        : port == settings.ImageStatusReplier ? "status"
        : port == settings.ImageTerminateReplier ? "terminate"
        : request.StartsWith(FenceMessage.Prefix, StringComparison.Ordinal) ? "fence"
        : request.StartsWith("motey-logs/", StringComparison.Ordinal) ? "logs"
        : "capabilities";

    private static string? ErrorReason(string reply) =>
        reply.StartsWith(PeerRepliers.ErrorPrefix, StringComparison.Ordinal) ? reply[PeerRepliers.ErrorPrefix.Length..] : null;
}
