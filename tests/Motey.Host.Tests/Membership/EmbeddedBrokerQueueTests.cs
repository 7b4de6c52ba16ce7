using System.Net.Sockets;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// The embedded broker's queue per client ([MQTT] queue_limit): big enough by default that a joining node gets every
/// node's retained presence at once, and never silent when it does drop. In-process node, real broker, real sockets.
/// </summary>
public sealed class EmbeddedBrokerQueueTests : IAsyncLifetime
{
    private const string DropWarning = "The embedded MQTT broker dropped";

    private readonly TestFolder _folder = new();
    private TestNode? _node;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<TestNode> StartAsync(Dictionary<string, string>? settings = null) =>
        _node = await TestNode.StartAsync(_folder, [TestNode.Simulated], settings);

    private async Task<IMqttClient> ConnectAsync(string clientId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(_folder.Address, 1883).WithClientId(clientId)
            .WithTimeout(TimeSpan.FromSeconds(10)).Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    [Fact]
    public async Task A_new_subscriber_gets_every_retained_message_of_a_cluster_far_larger_than_MQTTnets_default_queue()
    {
        const int Nodes = 3000;  // MQTTnet's own default queue is 250 per client
        await StartAsync();
        using var publisher = await ConnectAsync("publisher");
        // QoS 1: each publish returns once the broker has it, stored as retained.
        for (var i = 0; i < Nodes; i++)
        {
            await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"queue-test/nodes/{i}").WithPayload($"node {i}")
                .WithRetainFlag().WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        using var joiner = await ConnectAsync("joiner");
        var seen = new HashSet<string>();
        joiner.ApplicationMessageReceivedAsync += e =>
        {
            lock (seen) seen.Add(e.ApplicationMessage.Topic);
            return Task.CompletedTask;
        };
        await joiner.SubscribeAsync("queue-test/nodes/+");

        await Wait.UntilAsync(() => { lock (seen) return seen.Count == Nodes; }, $"the new subscriber got all {Nodes} retained messages",
            TimeSpan.FromSeconds(60), detail: () => { lock (seen) return $"it got {seen.Count}"; });
        Assert.DoesNotContain(DropWarning, Log());
    }

    [Fact]
    public async Task A_client_that_reads_too_slowly_makes_the_broker_warn_that_it_dropped_messages_and_how_to_raise_the_limit()
    {
        await StartAsync(new() { ["MQTT:queue_limit"] = "250" });
        // A client that subscribes and then never reads: its socket buffers fill, then its queue at the broker.
        using var stalled = new TcpClient();
        stalled.ReceiveBufferSize = 4096;
        await stalled.ConnectAsync(_folder.Address, 1883);
        var stream = stalled.GetStream();
        await stream.WriteAsync(Connect("stalled"));
        await stream.WriteAsync(Subscribe("flood/#"));
        await Wait.UntilAsync(() => stalled.Available >= 4 + 5, "the broker acknowledged the stalled client's connect and subscribe");

        using var publisher = await ConnectAsync("publisher");
        var payload = new byte[4096];
        var sent = 0;
        await Wait.UntilAsync(async () =>
        {
            for (var i = 0; i < 500; i++, sent++)
                await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("flood/x").WithPayload(payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());
            return Log().Contains(DropWarning, StringComparison.Ordinal);
        }, "the broker warned that it dropped messages for the stalled client", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(10),
            () => $"{sent} messages of 4 KiB published");

        var warning = Log().Split('\n').First(l => l.Contains(DropWarning, StringComparison.Ordinal));
        Assert.Contains("[WRN]", warning);
        Assert.Contains("client stalled", warning);
        Assert.Contains("[MQTT] queue_limit = 250", warning);
        Assert.Contains("raise queue_limit", warning);
    }

    /// <summary>MQTT 3.1.1 CONNECT: clean session, no keepalive (the broker never drops the client for silence).</summary>
    private static byte[] Connect(string clientId)
    {
        var id = Encoding.UTF8.GetBytes(clientId);
        byte[] variable = [0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02, 0, 0, 0, (byte)id.Length, .. id];
        return [0x10, (byte)variable.Length, .. variable];
    }

    /// <summary>MQTT 3.1.1 SUBSCRIBE, packet id 1, QoS 0.</summary>
    private static byte[] Subscribe(string filter)
    {
        var topic = Encoding.UTF8.GetBytes(filter);
        byte[] variable = [0, 1, 0, (byte)topic.Length, .. topic, 0];
        return [0x82, (byte)variable.Length, .. variable];
    }

    private string Log()
    {
        using var stream = new FileStream(Path.Combine(_folder.Path, "logs", "motey.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }
}
