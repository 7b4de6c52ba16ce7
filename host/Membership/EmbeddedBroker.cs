using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Motey.Host.Configuration;

namespace Motey.Host.Membership;

/// <summary>
/// With [MQTT] broker = embedded, this node hosts the MQTT broker (MQTTnet) on [MQTT] ip:port, so a single
/// node, or a small cluster around it, needs nothing else installed. With tls_certificate/tls_key it serves TLS alone
/// on that port; with password_file it accepts the logins of that file alone (else, with username/password set, that
/// login alone; else anyone). Every refused login is logged with its client id and user, never its password.
/// </summary>
internal sealed class EmbeddedBroker(MoteySettings settings, ILogger<EmbeddedBroker> log) : IHostedService, IAsyncDisposable
{
    private MqttServer? _server;
    private volatile bool _stopping;
    private long _dropped;
    private long _lastDropReport;

    private static readonly TimeSpan DropReportInterval = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var mqtt = settings.Mqtt;
        if (!mqtt.Embedded) return;
        var logins = BrokerLogins.From(mqtt);
        var factory = new MqttServerFactory();
        // Exactly the configured address: MQTTnet would also listen on [::] otherwise (port clash, and beyond loopback).
        var ip = IPAddress.Parse(mqtt.Ip);
        var v6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
        var builder = factory.CreateServerOptionsBuilder();
        if (mqtt.TlsCertificate is not null)
        {
            // TLS alone: no plain endpoint beside it, on this port or another.
            builder = builder.WithoutDefaultEndpoint()
                .WithEncryptedEndpoint()
                .WithEncryptedEndpointBoundIPAddress(v6 ? IPAddress.None : ip)
                .WithEncryptedEndpointBoundIPV6Address(v6 ? ip : IPAddress.None)
                .WithEncryptedEndpointPort(mqtt.Port)
                .WithEncryptionCertificate(LoadCertificate(mqtt));
        }
        else
        {
            builder = builder.WithDefaultEndpoint()
                .WithDefaultEndpointBoundIPAddress(v6 ? IPAddress.None : ip)
                .WithDefaultEndpointBoundIPV6Address(v6 ? ip : IPAddress.None)
                .WithDefaultEndpointPort(mqtt.Port);
        }
        // Every node's retained presence reaches a joining node at once: MQTTnet's default queue of 250 per client would
        // drop memberships in any cluster larger than that.
        builder = builder.WithMaxPendingMessagesPerClient(mqtt.QueueLimit)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage);
        _server = factory.CreateMqttServer(builder.Build());
        _server.QueuedApplicationMessageOverwrittenAsync += e =>
        {
            ReportDropped(e.ReceiverClientId);
            return Task.CompletedTask;
        };
        _server.ValidatingConnectionAsync += e =>
        {
            if (logins is null || logins.Accepts(e.UserName, e.RawPassword)) return Task.CompletedTask;
            e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            log.LogWarning("Refused the MQTT login of client {ClientId} as user {User} from {Endpoint}: not a login of {Logins}",
                Printable(e.ClientId), e.UserName is null ? "(none)" : Printable(e.UserName), e.RemoteEndPoint?.ToString(), logins.Source);
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
            // A port already taken is most often a broker installed on this host (the original Motey's mosquitto).
            var taken = e.SocketErrorCode == SocketError.AddressAlreadyInUse;
            throw new InvalidOperationException($"[MQTT] cannot host the embedded broker on {mqtt.Ip}:{mqtt.Port}: {e.Message}"
                + (!taken ? "" : "; something else listens there: if that is your broker, set [MQTT] broker = external"
                    + (mqtt.BrokerImplied ? " (config.ini sets no broker, and an ip of this host means this node hosts it)" : "")), e);
        }
        log.LogInformation("Embedded MQTT broker listening on {Ip}:{Port}{Tls}, {Logins}", mqtt.Ip, mqtt.Port,
            mqtt.TlsCertificate is null ? "" : " (TLS only)", logins is null ? "open to anyone" : $"logins from {logins.Source}");
    }

    /// <summary>
    /// A message the broker dropped for a client that read too slowly: membership messages can be among them, so it is
    /// never silent. Told once per <see cref="DropReportInterval"/> with the count since the last report.
    /// </summary>
    private void ReportDropped(string? clientId)
    {
        var count = Interlocked.Increment(ref _dropped);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastDropReport);
        if (now - last < (long)DropReportInterval.TotalMilliseconds && last != 0) return;
        if (Interlocked.CompareExchange(ref _lastDropReport, now, last) != last) return;
        Interlocked.Exchange(ref _dropped, 0);
        log.LogWarning("The embedded MQTT broker dropped {Count} message(s) queued for client {ClientId} and others that read too slowly "
            + "(more than [MQTT] queue_limit = {Limit} waiting): membership may have missed them; raise queue_limit above the cluster's size",
            count, Printable(clientId ?? "?"), settings.Mqtt.QueueLimit);
    }

    /// <summary>The broker's certificate with its key, from [MQTT] tls_certificate and tls_key (PEM).</summary>
    private static X509Certificate2 LoadCertificate(MqttSettings mqtt)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(mqtt.TlsCertificate!, mqtt.TlsKey);
            // SslStream wants a key it can use on every platform: round-trip through PKCS#12, as Kestrel does.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        // A key that does not match the certificate is an ArgumentException; a file that is no PEM a CryptographicException.
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"[MQTT] tls_certificate {mqtt.TlsCertificate} and tls_key {mqtt.TlsKey} cannot be loaded as a PEM certificate and its key: {e.Message}", e);
        }
    }

    /// <summary>A client's own text bounded and on one line, so it cannot forge log lines.</summary>
    private static string Printable(string text)
    {
        var clean = new string(text.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return text.Length > 80 ? clean + "..." : clean;
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
