using System.Text;
using Motey.Host.Peers;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// Many peers that answer capability requests only, as cheaply as a test can have them: real ROUTER sockets on
/// addresses of their own (127.79.x.y:5091), where every peer that answers the same list shares one socket bound on
/// each of their addresses. So a thousand peers cost a few NetMQ sockets and a thousand listeners here, and a thousand
/// connections on the requester's side, as a thousand nodes would. Dead peers are addresses of the same range where
/// nothing listens. <see cref="Addresses"/> are in the order a peer directory lists them (ordinal).
/// </summary>
internal sealed class CapabilityFleet : IAsyncDisposable
{
    /// <summary>What a peer without the capability answers: the simulated engine only.</summary>
    public const string Lacking = """[{"capability":"simulated","capability_type":"plugin"}]""";

    /// <summary>What a peer with the capability <c>lab</c> answers.</summary>
    public const string Capable = """[{"capability":"lab","capability_type":"hardware"},{"capability":"simulated","capability_type":"plugin"}]""";

    private static int _nextBlock = Random.Shared.Next(0, 200);

    private readonly NetMQPoller _poller = new();
    private readonly List<RouterSocket> _sockets = [];
    private readonly List<string> _endpoints = [];
    private int _requests;

    private CapabilityFleet(IReadOnlyList<string> addresses) => Addresses = addresses;

    /// <summary>Every peer's address, live and dead, in directory order.</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>Capability requests the live peers answered.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// <paramref name="count"/> peers; <paramref name="answer"/> says what the k-th (in directory order) answers,
    /// null for a dead one.
    /// </summary>
    public static CapabilityFleet Start(int count, Func<int, string?> answer)
    {
        for (var attempt = 1; ; attempt++)
        {
            var fleet = new CapabilityFleet(NewAddresses(count));
            try
            {
                fleet.Bind(answer);
                return fleet;
            }
            catch (AddressAlreadyInUseException) when (attempt < 5)
            {
                fleet.Stop();  // another test run uses that range: take the next one
            }
        }
    }

    /// <summary>Consecutive addresses of 127.79.0.0/16 (250 per /24), sorted as a directory sorts them.</summary>
    private static List<string> NewAddresses(int count)
    {
        var blocks = (count + 249) / 250;
        var first = Interlocked.Add(ref _nextBlock, blocks) - blocks;
        return Enumerable.Range(0, count)
            .Select(i => $"127.79.{(first + i / 250) % 256}.{i % 250 + 1}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private void Bind(Func<int, string?> answer)
    {
        var byAnswer = new Dictionary<string, RouterSocket>(StringComparer.Ordinal);
        for (var k = 0; k < Addresses.Count; k++)
        {
            if (answer(k) is not { } reply) continue;
            if (!byAnswer.TryGetValue(reply, out var socket))
            {
                socket = NewSocket(reply);
                byAnswer[reply] = socket;
            }
            var endpoint = PeerSockets.Tcp(Addresses[k], 5091);
            socket.Bind(endpoint);
            _endpoints.Add(endpoint);
        }
        _poller.RunAsync("capability-fleet", isBackgroundThread: true);
    }

    private RouterSocket NewSocket(string reply)
    {
        var socket = new RouterSocket();
        socket.Options.Linger = TimeSpan.Zero;
        var answer = Encoding.UTF8.GetBytes(reply);
        socket.ReceiveReady += (_, e) =>
        {
            var frames = new List<byte[]>();
            while (e.Socket.TryReceiveMultipartBytes(ref frames))
            {
                // [routing id][request id][empty][request]: the answer goes back behind the same envelope.
                var delimiter = frames.FindIndex(1, f => f.Length == 0);
                var message = new NetMQMessage();
                foreach (var frame in frames.Take(delimiter >= 0 ? delimiter + 1 : 1)) message.Append(frame);
                message.Append(answer);
                e.Socket.TrySendMultipartMessage(message);
                Interlocked.Increment(ref _requests);
                frames = [];
            }
        };
        _sockets.Add(socket);
        _poller.Add(socket);
        return socket;
    }

    private void Stop()
    {
        if (_poller.IsRunning) _poller.Stop();
        _poller.Dispose();
        foreach (var socket in _sockets) socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        foreach (var endpoint in _endpoints.Take(1)) await PeerSockets.WaitUntilReleasedAsync(endpoint);
    }
}
