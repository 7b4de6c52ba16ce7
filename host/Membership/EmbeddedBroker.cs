using System.Net;
using System.Net.Sockets;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Motey.Host.Configuration;

namespace Motey.Host.Membership;

/// <summary>
/// With [MQTT] broker = embedded, this node hosts the MQTT broker (MQTTnet) on [MQTT] ip:port, so a single
/// node, or a small cluster around it, needs nothing else installed. With username/password set, clients
/// must present them.
/// </summary>
internal sealed class EmbeddedBroker(MoteySettings settings, ILogger<EmbeddedBroker> log) : IHostedService, IAsyncDisposable
{
    private MqttServer? _server;
    private volatile bool _stopping;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var mqtt = settings.Mqtt;
        if (!mqtt.Embedded) return;
        var factory = new MqttServerFactory();
        // Exactly the configured address: MQTTnet would also listen on [::] otherwise (port clash, and beyond loopback).
        var ip = IPAddress.Parse(mqtt.Ip);
        var v6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
        var options = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(v6 ? IPAddress.None : ip)
            .WithDefaultEndpointBoundIPV6Address(v6 ? ip : IPAddress.None)
            .WithDefaultEndpointPort(mqtt.Port)
            .Build();
        _server = factory.CreateMqttServer(options);
        _server.ValidatingConnectionAsync += e =>
        {
            if (mqtt.Username is not null && (e.UserName != mqtt.Username || e.Password != mqtt.Password))
                e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            return Task.CompletedTask;
        };
        // A broker that stops ends every client's connection without a DISCONNECT from the client, so MQTTnet would
        // publish their last wills: "remove" for nodes that are alive, which would drop them from the others' lists
        // (and place their instances again). A stopping broker is no news about its clients: nothing passes any more.
        _server.InterceptingPublishAsync += e =>
        {
            if (_stopping) e.ProcessPublish = false;
            return Task.CompletedTask;
        };
        try
        {
            await _server.StartAsync();
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException(
                $"[MQTT] cannot host the embedded broker on {mqtt.Ip}:{mqtt.Port}: {e.Message}; set [MQTT] broker = external to use the broker listening there", e);
        }
        log.LogInformation("Embedded MQTT broker listening on {Ip}:{Port}", mqtt.Ip, mqtt.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        if (_server is { IsStarted: true }) await _server.StopAsync(new MqttServerStopOptions());
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }
}
