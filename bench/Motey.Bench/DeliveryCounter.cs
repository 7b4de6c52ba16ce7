using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using MQTTnet;

namespace Motey.Bench;

/// <summary>
/// Counts what the brokers carry during a join: one MQTTnet client on the first broker subscribed to <c>motey/#</c>
/// (each membership message once, whoever published it and on whichever bridged broker: v1 register, nodes_request,
/// remove, v2 presences live and retained), and on every mosquitto one client subscribed to its $SYS counters
/// (<c>$SYS/broker/publish/messages/sent</c> and <c>/dropped</c>; their latest values).
/// </summary>
internal sealed class DeliveryCounter : IAsyncDisposable
{
    private readonly List<IMqttClient> _clients = [];
    private readonly ConcurrentDictionary<string, long> _sys = new(StringComparer.Ordinal);
    private long _register, _request, _remove, _presence, _retained, _lost;
    private volatile bool _disposing;

    /// <summary>Counting connections that dropped: a count taken after one dropped is short (said in the results).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    public static async Task<DeliveryCounter> StartAsync(IReadOnlyList<string> brokers, IReadOnlyList<string> mosquittos)
    {
        var counter = new DeliveryCounter();
        var client = await counter.ConnectAsync(brokers[0], "motey-bench-counter");
        client.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            if (topic == MqttPeers.Register) Interlocked.Increment(ref counter._register);
            else if (topic == MqttPeers.NodesRequest) Interlocked.Increment(ref counter._request);
            else if (topic == MqttPeers.Remove) Interlocked.Increment(ref counter._remove);
            else if (topic.StartsWith(MqttPeers.PresencePrefix, StringComparison.Ordinal))
            {
                if (e.ApplicationMessage.Retain) Interlocked.Increment(ref counter._retained);
                else Interlocked.Increment(ref counter._presence);
            }
            return Task.CompletedTask;
        };
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("motey/#").Build());
        foreach (var broker in mosquittos)
        {
            var sys = await counter.ConnectAsync(broker, "motey-bench-sys");
            var key = broker;
            sys.ApplicationMessageReceivedAsync += e =>
            {
                var text = Encoding.UTF8.GetString(e.ApplicationMessage.Payload);
                if (long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                    counter._sys[$"{key} {e.ApplicationMessage.Topic}"] = value;
                return Task.CompletedTask;
            };
            await sys.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(SentTopic).WithTopicFilter(DroppedTopic).Build());
        }
        return counter;
    }

    public const string SentTopic = "$SYS/broker/publish/messages/sent";
    public const string DroppedTopic = "$SYS/broker/publish/messages/dropped";

    private async Task<IMqttClient> ConnectAsync(string broker, string name)
    {
        var (host, port) = broker.Split(':') is [var h, var p] ? (h, int.Parse(p, CultureInfo.InvariantCulture)) : (broker, AgentNode.MqttPort);
        var client = new MqttClientFactory().CreateMqttClient();
        // keepalive 60 s as the agents and peers: with MQTTnet's 15 s default these clients closed their connections
        // under a load average of 60 (2 cores shared) and the counts stopped mid-join.
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port)
            .WithClientId($"{name}-{Guid.NewGuid():N}").WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60)).WithTimeout(TimeSpan.FromSeconds(30)).Build());
        if (result.ResultCode != MqttClientConnectResultCode.Success) throw new BenchException($"the broker at {broker} refused the counting client: {result.ResultCode}");
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !_disposing) Interlocked.Increment(ref _lost);
            return Task.CompletedTask;
        };
        _clients.Add(client);
        return client;
    }

    public Snapshot Take() => new(Interlocked.Read(ref _register), Interlocked.Read(ref _request), Interlocked.Read(ref _remove),
        Interlocked.Read(ref _presence), Interlocked.Read(ref _retained),
        _sys.Where(s => s.Key.EndsWith(SentTopic, StringComparison.Ordinal)).Sum(s => s.Value),
        _sys.Where(s => s.Key.EndsWith(DroppedTopic, StringComparison.Ordinal)).Sum(s => s.Value));

    /// <summary>Counts at one moment; <see cref="SysSent"/> and <see cref="SysDropped"/> summed over the mosquittos.</summary>
    public sealed record Snapshot(long Register, long Request, long Remove, long Presence, long Retained, long SysSent, long SysDropped)
    {
        public long V1 => Register + Request + Remove;

        public static Snapshot operator -(Snapshot a, Snapshot b) =>
            new(a.Register - b.Register, a.Request - b.Request, a.Remove - b.Remove, a.Presence - b.Presence, a.Retained - b.Retained,
                a.SysSent - b.SysSent, a.SysDropped - b.SysDropped);
    }

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        foreach (var client in _clients)
        {
            try
            {
                if (client.IsConnected) await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
            }
            catch (Exception)
            {
                // the broker may be gone
            }
            client.Dispose();
        }
    }
}
