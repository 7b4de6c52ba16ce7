using System.Collections.Concurrent;
using MQTTnet;
using Motey.Host.Membership;
using Motey.Host.Peers;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// A node of the original Motey as far as a peer sees it: REP sockets (NetMQ ResponseSocket, as its pyzmq zmq.REP) on
/// the four replier ports of a loopback address of its own, answering with what it stores (capabilities as
/// <c>{"capability", "type"}</c>, <c>null</c> when it has none), and its address announced on the MQTT register topic.
/// A deploy is answered with an instance id and kept for the test to look at; status says RUNNING (2).
/// </summary>
internal sealed class OriginalNode : IAsyncDisposable
{
    public const string InstanceId = "original-instance-1";

    private readonly NetMQPoller _poller = [];
    private readonly List<ResponseSocket> _sockets = [];

    public OriginalNode(string capabilitiesAnswer, string? address = null)
    {
        Address = address ?? Loopback.NewAddress();
        CapabilitiesAnswer = capabilitiesAnswer;
        Reply(5091, _ => CapabilitiesAnswer);
        Reply(5092, request => { Deploys.Enqueue(request); return InstanceId; });
        Reply(5093, _ =>
        {
            // A stall blocks the node's one poller thread: every replier of it is silent meanwhile, as a paused process.
            if (Interlocked.Exchange(ref _stallNextStatus, 0) is var ms and > 0) Thread.Sleep(ms);
            return "2";
        });
        Reply(5094, _ => "");
        _poller.RunAsync("original-node", isBackgroundThread: true);
    }

    public string Address { get; }

    /// <summary>What the capabilities replier answers, as the original's repository would send it.</summary>
    public string CapabilitiesAnswer { get; set; }

    private int _stallNextStatus;

    /// <summary>The next status request is answered only after <paramref name="stall"/>, and nothing else is answered meanwhile.</summary>
    public void StallNextStatus(TimeSpan stall) => Interlocked.Exchange(ref _stallNextStatus, (int)stall.TotalMilliseconds);

    /// <summary>The deploy requests it got, as sent.</summary>
    public ConcurrentQueue<string> Deploys { get; } = new();

    private void Reply(int port, Func<string, string> answer)
    {
        var socket = new ResponseSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Bind(PeerSockets.Tcp(Address, port));
        socket.ReceiveReady += (_, e) =>
        {
            while (e.Socket.TryReceiveFrameString(out var request)) e.Socket.SendFrame(answer(request));
        };
        _sockets.Add(socket);
        _poller.Add(socket);
    }

    /// <summary>Announces the node on <c>motey/v1/register</c> through the broker at <paramref name="brokerIp"/>:1883, as the original does when it starts.</summary>
    public async Task RegisterAsync(string brokerIp)
    {
        using var mqtt = new MqttClientFactory().CreateMqttClient();
        await mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(brokerIp, 1883).WithClientId($"original-{Address}-{Guid.NewGuid():N}").Build());
        await mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(MqttMembership.Register).WithPayload(Address).Build());
        await mqtt.DisconnectAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _poller.Stop();
        _poller.Dispose();
        foreach (var socket in _sockets) socket.Dispose();
        foreach (var port in new[] { 5091, 5092, 5093, 5094 }) await PeerSockets.WaitUntilReleasedAsync(PeerSockets.Tcp(Address, port));
    }
}
