using System.Text;
using System.Threading.Channels;
using Motey.Host.Peers;
using NetMQ;
using NetMQ.Monitoring;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>One request as a <see cref="ScriptedPeer"/> got it: the envelope to answer behind, and the text.</summary>
internal sealed record HeldRequest(IReadOnlyList<byte[]> Envelope, string Text);

/// <summary>
/// A peer whose answers the test writes: a ROUTER on a loopback address of its own that hands every request to the
/// test and sends back whatever the test says, when it says it, behind the request's own envelope (or any other).
/// </summary>
internal sealed class ScriptedPeer : IAsyncDisposable
{
    private readonly Channel<HeldRequest> _requests = Channel.CreateUnbounded<HeldRequest>();
    private readonly RouterSocket _socket = new();
    private readonly NetMQPoller _poller;
    private readonly NetMQMonitor _monitor;
    private int _accepted;

    public ScriptedPeer(string? address = null, int port = 5091)
    {
        Address = address ?? Loopback.NewAddress();
        Endpoint = PeerSockets.Tcp(Address, port);
        _socket.Options.Linger = TimeSpan.Zero;
        _socket.Bind(Endpoint);
        _socket.ReceiveReady += (_, e) =>
        {
            var frames = new List<byte[]>();
            while (e.Socket.TryReceiveMultipartBytes(ref frames))
            {
                var delimiter = frames.FindIndex(1, f => f.Length == 0);
                var envelopeLength = delimiter >= 0 ? delimiter + 1 : 1;
                _requests.Writer.TryWrite(new HeldRequest(frames[..envelopeLength], string.Concat(frames[envelopeLength..].Select(Encoding.UTF8.GetString))));
                frames = [];
            }
        };
        _poller = new NetMQPoller { _socket };
        _monitor = new NetMQMonitor(_socket, $"inproc://scripted-peer-{Guid.NewGuid():N}", SocketEvents.Accepted);
        _monitor.Accepted += (_, _) => Interlocked.Increment(ref _accepted);
        _monitor.AttachToPoller(_poller);
        _poller.RunAsync("scripted-peer", isBackgroundThread: true);
    }

    public string Address { get; }
    public string Endpoint { get; }

    /// <summary>Connections this peer accepted, a requester's reconnect included.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>The next request that arrived; fails the test when none comes within the deadline.</summary>
    public async Task<HeldRequest> NextAsync()
    {
        using var deadline = new CancellationTokenSource(RawPeer.AnswerDeadline);
        try
        {
            return await _requests.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no request reached {Endpoint} within {RawPeer.AnswerDeadline.TotalSeconds} s");
            throw;
        }
    }

    /// <summary>Sends <paramref name="frames"/> behind <paramref name="request"/>'s envelope.</summary>
    public void Answer(HeldRequest request, params byte[][] frames) => _poller.Run(() =>
    {
        var message = new NetMQMessage();
        foreach (var frame in request.Envelope.Concat(frames)) message.Append(frame);
        _socket.TrySendMultipartMessage(message);
    });

    public void Answer(HeldRequest request, string text) => Answer(request, Encoding.UTF8.GetBytes(text));

    public async ValueTask DisposeAsync()
    {
        _poller.Stop();
        _monitor.Dispose();
        _poller.Dispose();
        _socket.Dispose();
        await PeerSockets.WaitUntilReleasedAsync(Endpoint);
    }
}
