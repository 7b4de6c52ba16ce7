using MQTTnet;
using MQTTnet.Protocol;
using Motey.Host.Configuration;

namespace Motey.Host.Membership;

/// <summary>
/// One connection of this node to one broker, with an MQTTnet client of its own: MQTTnet raises its events on other
/// threads and late, so a client per connection is what keeps a late "disconnected" of an old connection from being
/// taken for the loss of the next one.
/// </summary>
internal sealed class BrokerConnection : IDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly TaskCompletionSource<string> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _leaving;

    public BrokerConnection(BrokerEndpoint broker, int index, Func<BrokerConnection, MqttApplicationMessage, Task> onMessage)
    {
        Broker = broker;
        Index = index;
        _client.ApplicationMessageReceivedAsync += e => onMessage(this, e.ApplicationMessage);
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !_leaving) _lost.TrySetResult(e.Exception is { } error ? Innermost(error).Message : e.Reason.ToString());
            return Task.CompletedTask;
        };
    }

    public BrokerEndpoint Broker { get; }

    /// <summary>Where <see cref="Broker"/> stands in [MQTT] brokers.</summary>
    public int Index { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>Completes, with why, when the connection drops while this node did not leave it.</summary>
    public Task<string> Lost => _lost.Task;

    /// <summary>Whether the last connect got as far as the broker's TLS certificate.</summary>
    public bool TlsCertificateChecked { get; private set; }

    /// <summary>Why the broker's certificate was refused in the last connect, when it was (see <see cref="BrokerTls"/>).</summary>
    public string? TlsRejection { get; private set; }

    /// <summary>
    /// The client options for a node: its address as last will on <c>remove</c> unless <paramref name="will"/> is false (a
    /// probe is no member); over TLS when <paramref name="tls"/> is set, telling <paramref name="checkedCertificate"/> of
    /// the broker's certificate (see <see cref="BrokerTls.Options"/>); with the login of [MQTT] username/password when set.
    /// </summary>
    public static MqttClientOptions Options(MqttSettings mqtt, BrokerTls? tls, string address, BrokerEndpoint broker, bool will, TimeSpan timeout,
        Action<string?>? checkedCertificate = null)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithClientId($"motey-{address}-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(mqtt.KeepAliveSeconds))
            .WithTimeout(timeout);
        if (will)
        {
            builder = builder.WithWillTopic(MqttMembership.Remove).WithWillPayload(address)
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce);
        }
        if (tls is not null) builder = builder.WithTlsOptions(tls.Options(broker, checkedCertificate));
        if (mqtt.Username is not null) builder = builder.WithCredentials(mqtt.Username, mqtt.Password ?? "");
        return builder.Build();
    }

    /// <summary>Connects as a member (with the last will), recording what became of the broker's certificate.</summary>
    public Task<MqttClientConnectResult> ConnectAsync(MqttSettings mqtt, BrokerTls? tls, string address, TimeSpan timeout, CancellationToken cancellationToken) =>
        _client.ConnectAsync(Options(mqtt, tls, address, Broker, will: true, timeout, why =>
        {
            TlsCertificateChecked = true;
            TlsRejection = why;
        }), cancellationToken);

    public Task SubscribeAsync(IEnumerable<string> topics, CancellationToken cancellationToken)
    {
        var options = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in topics) options = options.WithTopicFilter(topic);
        return _client.SubscribeAsync(options.Build(), cancellationToken);
    }

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build(), cancellationToken);

    /// <summary>Publishes a retained message (QoS 0): the broker keeps it for every later subscriber; an empty payload deletes it.</summary>
    public Task PublishRetainedAsync(string topic, byte[] payload, CancellationToken cancellationToken) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithRetainFlag(true)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build(), cancellationToken);

    /// <summary>Disconnects cleanly: the broker sends no last will, and <see cref="Lost"/> never completes.</summary>
    public Task LeaveAsync(CancellationToken cancellationToken)
    {
        _leaving = true;
        return _client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken);
    }

    public void Dispose() => _client.Dispose();

    public static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
