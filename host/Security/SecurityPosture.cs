using System.Text.Json.Serialization;
using Motey.Host.Configuration;

namespace Motey.Host.Security;

/// <summary>
/// How each channel of this node is secured, as GET /v1/security answers and `motey status` prints it: what is on and
/// what is open, never a secret nor the path of one.
/// </summary>
internal sealed record SecurityPosture(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("rest")] RestPosture Rest,
    [property: JsonPropertyName("mqtt")] MqttPosture Mqtt,
    [property: JsonPropertyName("zeromq")] ZeroMqPosture ZeroMq,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// What the request that asked may do: <c>admin</c> (everything: an admin token, or any request on a node without
    /// tokens) or <c>read</c> (a read token). Null where no request asked (`motey status` reading config.ini).
    /// </summary>
    [JsonPropertyName("role")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    public static SecurityPosture Of(MoteySettings settings)
    {
        var web = settings.WebServer;
        var mqtt = settings.Mqtt;
        return new SecurityPosture(
            settings.Security.Mode == SecurityMode.Open ? "open" : "secure",
            new RestPosture(web.Https, web.TlsClientCa is not null, web.TokensFile is not null, web.Insecure),
            new MqttPosture(mqtt.Tls, mqtt.Username is not null, mqtt.Embedded && mqtt.TlsCertificate is not null,
                mqtt.Embedded && mqtt.PasswordFile is not null),
            new ZeroMqPosture(settings.ZeroMq.ClusterKeyFile is not null, settings.ZeroMq.RemotePublishers ? "any" : "local"),
            SecurityRules.Warnings(settings));
    }

    /// <summary>
    /// One line for `motey status`: the mode, then each channel. OPEN in capitals when the mode is open or the API is
    /// insecure, so it is not read past.
    /// </summary>
    public string Summary()
    {
        var open = Mode == "open" || Rest.Insecure;
        var rest = (Rest.Tls ? "https" : "http") + (Rest.ClientCertificates ? " + client certificates" : "") + (Rest.Tokens ? " + tokens" : ", no tokens");
        var mqtt = (Mqtt.Tls ? "tls" : "plain") + (Mqtt.Login ? " + login" : ", no login")
            + (Mqtt.EmbeddedBrokerTls || Mqtt.EmbeddedBrokerLogins
                ? $" (embedded broker: {(Mqtt.EmbeddedBrokerTls ? "tls" : "plain")}, {(Mqtt.EmbeddedBrokerLogins ? "logins" : "anyone")})" : "");
        var zeromq = (ZeroMq.Curve ? "curve" : "plain") + $", capability events from {(ZeroMq.CapabilityPublishers == "any" ? "any host" : "this host")}";
        return $"{(open ? $"OPEN ({Mode} mode{(Rest.Insecure ? ", insecure REST" : "")})" : Mode)}; REST {rest}; MQTT {mqtt}; ZeroMQ {zeromq}";
    }
}

internal sealed record RestPosture(
    [property: JsonPropertyName("tls")] bool Tls,
    [property: JsonPropertyName("client_certificates")] bool ClientCertificates,
    [property: JsonPropertyName("tokens")] bool Tokens,
    [property: JsonPropertyName("insecure")] bool Insecure);

internal sealed record MqttPosture(
    [property: JsonPropertyName("tls")] bool Tls,
    [property: JsonPropertyName("login")] bool Login,
    [property: JsonPropertyName("embedded_broker_tls")] bool EmbeddedBrokerTls,
    [property: JsonPropertyName("embedded_broker_logins")] bool EmbeddedBrokerLogins);

internal sealed record ZeroMqPosture(
    [property: JsonPropertyName("curve")] bool Curve,
    [property: JsonPropertyName("capability_publishers")] string CapabilityPublishers);
