using System.Text;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>Talks to a node the way any ZeroMQ program can, frame by frame: what an original node or a broken peer sends.</summary>
internal static class RawPeer
{
    /// <summary>Generous: a deploy answered here may create a container, which took over 10 s on a loaded CI machine.</summary>
    public static readonly TimeSpan AnswerDeadline = TimeSpan.FromSeconds(30);

    /// <summary>One REQ request of the given frames; the reply's single frame as text. Fails the test when no reply comes.</summary>
    public static Task<string> AskAsync(string endpoint, params byte[][] frames) => Task.Run(() =>
    {
        using var socket = new RequestSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Connect(endpoint);
        socket.SendMultipartBytes(frames);
        List<string>? reply = null;
        if (!socket.TryReceiveMultipartStrings(AnswerDeadline, Encoding.UTF8, ref reply))
            Assert.Fail($"no reply from {endpoint} within {AnswerDeadline.TotalSeconds} s");
        Assert.Single(reply!);
        return reply![0];
    });

    public static Task<string> AskAsync(string endpoint, string text) => AskAsync(endpoint, Encoding.UTF8.GetBytes(text));

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}

/// <summary>
/// A publisher of capability events. An XPUB, so it knows when the listener has subscribed and no event is lost
/// to the slow-joiner race; its send buffer is large so a burst is not dropped on this side.
/// </summary>
internal sealed class EventSender : IDisposable
{
    private readonly XPublisherSocket _socket = new();

    private EventSender(string endpoint)
    {
        _socket.Options.SendHighWatermark = 1_000_000;
        _socket.Options.Linger = TimeSpan.FromSeconds(5);
        _socket.Connect(endpoint);
        if (!_socket.TryReceiveFrameBytes(RawPeer.AnswerDeadline, out var subscription) || subscription is not [1, ..])
            Assert.Fail($"the listener on {endpoint} did not subscribe within {RawPeer.AnswerDeadline.TotalSeconds} s");
    }

    public static EventSender Connect(string endpoint) => new(endpoint);

    public void Send(string text) => _socket.SendFrame(text);

    public void SendFrames(params byte[][] frames) => _socket.SendMultipartBytes(frames);

    public void Dispose() => _socket.Dispose();
}

/// <summary>
/// A node in front of the real local node that can hold requests: images named <see cref="SlowImage"/> deploy
/// only once <see cref="ReleaseDeploys"/> is called, and the first <see cref="HeldCapabilityRequests"/> capability
/// requests wait for <see cref="ReleaseCapabilities"/>.
/// </summary>
internal sealed class GatedNode(INodeClient inner) : INodeClient
{
    public const string SlowImage = "slow";

    private readonly TaskCompletionSource _deploys = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _capabilities = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _capabilityRequests;
    private int _slowDeploysWaiting;

    public int HeldCapabilityRequests { get; init; }
    public int SlowDeploysWaiting => Volatile.Read(ref _slowDeploysWaiting);
    public int CapabilityRequestsSeen => Volatile.Read(ref _capabilityRequests);

    public string Address => inner.Address;

    public void ReleaseDeploys() => _deploys.TrySetResult();
    public void ReleaseCapabilities() => _capabilities.TrySetResult();

    public async Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _capabilityRequests) <= HeldCapabilityRequests) await _capabilities.Task.WaitAsync(cancellationToken);
        return await inner.GetCapabilitiesAsync(cancellationToken);
    }

    public async Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        if (image.Name == SlowImage)
        {
            Interlocked.Increment(ref _slowDeploysWaiting);
            try
            {
                await _deploys.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _slowDeploysWaiting);
            }
        }
        return await inner.DeployImageAsync(image, labels, cancellationToken);
    }

    public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken) => inner.GetImageStateAsync(image, cancellationToken);
    public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => inner.GetExitCodeAsync(image, cancellationToken);

    public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
        inner.RemoveLeftoversAsync(image, labels, cancellationToken);
    public Task TerminateImageAsync(Image image, CancellationToken cancellationToken) => inner.TerminateImageAsync(image, cancellationToken);
}
