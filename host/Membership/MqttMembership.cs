using System.Net;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Motey.Host.Configuration;
using Motey.Host.Core.Membership;

namespace Motey.Host.Membership;

/// <summary>
/// Node membership over MQTT, wire-compatible with the original Motey (topics below, QoS 0, payload = the
/// node's address as plain text). After every (re)connect the node announces itself on <c>register</c> and
/// asks on <c>nodes_request</c>; peers that do not answer within a few seconds are dropped, so membership is
/// rebuilt from the live nodes' answers without forgetting live peers in between.
/// A clean stop says <c>remove</c>; a node that dies is removed through its last will (the broker sends
/// <c>remove</c> for it when its connection drops or its keepalive runs out). The broker may be down at
/// start or go away later: the node retries with exponential backoff.
/// </summary>
internal sealed class MqttMembership(
    MoteySettings settings,
    NodeIdentity identity,
    ClusterNodes nodes,
    MembershipStatus status,
    ILogger<MqttMembership> log) : BackgroundService
{
    public const string NodesRequest = "motey/v1/nodes_request";
    public const string Register = "motey/v1/register";
    public const string Remove = "motey/v1/remove";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    /// <summary>How long peers have to answer a nodes_request before the ones that did not are dropped.</summary>
    private static readonly TimeSpan ResyncSettle = TimeSpan.FromSeconds(3);
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly SemaphoreSlim _disconnected = new(0);

    private string Broker => $"{settings.Mqtt.Ip}:{settings.Mqtt.Port}";

    /// <summary>The nodes of the last run are forgotten before the first connect: they announce themselves again.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await nodes.ResetAsync(cancellationToken);
        log.LogInformation("Node {Address} starting; the nodes of the last run are forgotten until they announce themselves", identity.Address);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _client.ApplicationMessageReceivedAsync += e => OnMessageAsync(e, stoppingToken);
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning("Lost the MQTT broker at {Broker}: {Reason}", Broker, e.Exception?.Message ?? e.Reason.ToString());
                status.Set(MembershipState.Reconnecting, $"lost the broker at {Broker}");
                _disconnected.Release();
            }
            return Task.CompletedTask;
        };

        var retry = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (await TryConnectAsync(stoppingToken))
            {
                retry = FirstRetry;
                await _disconnected.WaitAsync(stoppingToken);
                continue;
            }
            await Task.Delay(retry, stoppingToken);
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, settings.Mqtt.ReconnectMax.Ticks));
        }
    }

    private async Task<bool> TryConnectAsync(CancellationToken stoppingToken)
    {
        var mqtt = settings.Mqtt;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(mqtt.Ip, mqtt.Port)
            .WithClientId($"motey-{identity.Address}-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(mqtt.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Remove)
            .WithWillPayload(identity.Address)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce);
        if (mqtt.Username is not null) builder = builder.WithCredentials(mqtt.Username, mqtt.Password ?? "");
        MqttClientConnectResult result;
        try
        {
            result = await _client.ConnectAsync(builder.Build(), stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Refused logins come back as a result code below; an exception means nothing answered usefully.
            var problem = $"the MQTT broker at {Broker} is not reachable: {Innermost(e).Message}";
            if (status.Set(MembershipState.Reconnecting, problem)) log.LogWarning("{Problem}; retrying", problem);
            return false;
        }
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            var problem = $"the MQTT broker at {Broker} refused the connection: {result.ResultCode}{(string.IsNullOrEmpty(result.ReasonString) ? "" : $" ({result.ReasonString})")}";
            var refusedLogin = result.ResultCode is MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized;
            if (status.Set(refusedLogin ? MembershipState.Refused : MembershipState.Reconnecting, problem))
                log.LogError("{Problem}; check [MQTT] username and password", problem);
            return false;
        }

        nodes.BeginResync();
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(NodesRequest).WithTopicFilter(Register).WithTopicFilter(Remove).Build(), stoppingToken);
        await PublishAsync(Register, stoppingToken);
        await PublishAsync(NodesRequest, stoppingToken);
        status.Set(MembershipState.Connected, null);
        log.LogInformation("Joined the cluster through the MQTT broker at {Broker} as {Address}", Broker, identity.Address);
        _ = EndResyncAsync(Interlocked.Increment(ref _connections), stoppingToken);
        return true;
    }

    private int _connections;

    /// <summary>Peers that did not answer the nodes_request of this connection within the settle time are gone.</summary>
    private async Task EndResyncAsync(int connection, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(ResyncSettle, stoppingToken);
            if (connection != Volatile.Read(ref _connections) || !_client.IsConnected) return;
            foreach (var address in await nodes.EndResyncAsync(stoppingToken))
                log.LogInformation("Node {Address} did not answer after the reconnect: it left", address);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogError(e, "Membership resync failed");
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e, CancellationToken stoppingToken)
    {
        var topic = e.ApplicationMessage.Topic;
        var address = ReadAddress(e.ApplicationMessage);
        if (address is null)
        {
            log.LogWarning("Dropped a message on {Topic}: the payload is not a node address", topic);
            return;
        }
        try
        {
            switch (topic)
            {
                case NodesRequest when address != identity.Address:
                    await PublishAsync(Register, stoppingToken);
                    break;
                case Register when await nodes.AddAsync(address, stoppingToken):
                    log.LogInformation("Node {Address} joined", address);
                    break;
                case Remove when await nodes.RemoveAsync(address, stoppingToken):
                    log.LogInformation("Node {Address} left", address);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            log.LogError(ex, "Handling {Topic} from {Address} failed", topic, address);
        }
    }

    /// <summary>
    /// The payload as a node address, or null: it must be an IP address written canonically (no shorthand such
    /// as "127.1", octal or hex forms, which would name another host than the text seems to) and a unicast one.
    /// </summary>
    private static string? ReadAddress(MqttApplicationMessage message)
    {
        if (message.Payload.Length is 0 or > 64) return null;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(message.Payload).Trim();
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        if (!IPAddress.TryParse(text, out var ip)) return null;
        var v4 = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        // IPv6 has several honest spellings of one address (listed in canonical form); IPv4 has one.
        if (v4 && ip.ToString() != text) return null;
        var unusable = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.Broadcast)
            || ip.IsIPv6Multicast || (v4 && ip.GetAddressBytes()[0] >= 224);
        return unusable ? null : ip.ToString();
    }

    private Task<MqttClientPublishResult> PublishAsync(string topic, CancellationToken cancellationToken) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(identity.Address)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build(), cancellationToken);

    /// <summary>Says goodbye on <c>remove</c> and disconnects cleanly (so the broker does not send the last will too).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            try
            {
                await PublishAsync(Remove, cancellationToken);
                await _client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken);
                log.LogInformation("Left the cluster");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning("Could not say goodbye to the cluster: {Error}", e.Message);
            }
        }
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
