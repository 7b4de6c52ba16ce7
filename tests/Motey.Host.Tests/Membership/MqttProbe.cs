using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Motey.Host.Core.Model;
using Motey.Host.Membership;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// An MQTT client of the test's own on a real broker: it records every message the broker delivers to it (retained ones
/// flagged), publishes what a test needs, and plays a node on the wire — a Motey.NET node's presence and last will, or
/// an original node's v1 messages alone.
/// </summary>
internal sealed class MqttProbe : IAsyncDisposable
{
    private const string MarkerTopic = "motey-test/marker";

    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();

    private MqttProbe(string address) => Address = address;

    /// <summary>The node address this client speaks for (its will, its presence); a test address when it plays no node.</summary>
    public string Address { get; }

    /// <summary>Every message delivered, in the order delivered.</summary>
    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public sealed record Delivery(string Topic, byte[] Payload, bool Retained)
    {
        public string Text => Encoding.UTF8.GetString(Payload);
    }

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/>; with <paramref name="will"/> its last will is v1
    /// <c>remove</c> of <paramref name="address"/>, as a node's is. Subscribes to <paramref name="topics"/> when given.
    /// </summary>
    public static async Task<MqttProbe> ConnectAsync(string host, int port, string address, bool will = false, params string[] topics)
    {
        var probe = new MqttProbe(address);
        probe._client.ApplicationMessageReceivedAsync += e =>
        {
            probe.Deliveries.Enqueue(new Delivery(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Retain));
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId($"test-{address}-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .WithTimeout(TimeSpan.FromSeconds(30));
        if (will) options = options.WithWillTopic(MqttMembership.Remove).WithWillPayload(address).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce);
        await probe._client.ConnectAsync(options.Build());
        if (topics.Length > 0) await probe.SubscribeAsync(topics);
        return probe;
    }

    public async Task SubscribeAsync(params string[] topics)
    {
        var options = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in topics) options = options.WithTopicFilter(topic);
        await _client.SubscribeAsync(options.Build());
    }

    public Task PublishAsync(string topic, byte[] payload, bool retain = false) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain).Build());

    public Task PublishAsync(string topic, string payload, bool retain = false) => PublishAsync(topic, Encoding.UTF8.GetBytes(payload), retain);

    /// <summary>Publishes this node's presence with <paramref name="capabilities"/>, retained, as a Motey.NET node does.</summary>
    public Task PublishPresenceAsync(params Capability[] capabilities) =>
        PublishAsync(Presence.Topic(Address), Presence.Write(Address, capabilities), retain: true);

    /// <summary>
    /// The presences the broker keeps now, by address (a fresh subscription's retained messages): a marker published
    /// after subscribing comes after every retained message, which the broker queues while it handles the subscription.
    /// </summary>
    public static async Task<Dictionary<string, string>> RetainedPresencesAsync(string host, int port)
    {
        await using var probe = await ConnectAsync(host, port, "retained-reader", will: false, Presence.Subscription, MarkerTopic);
        var marker = Guid.NewGuid().ToString("N");
        await probe.PublishAsync(MarkerTopic, marker);
        await Wait.UntilAsync(() => probe.Deliveries.Any(d => d.Topic == MarkerTopic && d.Text == marker), "the marker comes back after the retained presences");
        return probe.Deliveries.TakeWhile(d => d.Topic != MarkerTopic)
            .Where(d => d.Retained && d.Payload.Length > 0)
            .ToDictionary(d => d.Topic[Presence.TopicPrefix.Length..], d => d.Text);
    }

    /// <summary>How many messages on <paramref name="topic"/> with payload <paramref name="text"/> were delivered.</summary>
    public int Count(string topic, string text) => Deliveries.Count(d => d.Topic == topic && d.Text == text);

    /// <summary>Ends the connection without a DISCONNECT, as a killed process does: the broker sends the last will.</summary>
    public void Kill() => _client.Dispose();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync(new MqttClientDisconnectOptions());
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            // killed already, or the broker went first
        }
        _client.Dispose();
    }
}
