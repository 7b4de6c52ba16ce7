using System.Net;
using Motey.Host.Core.Membership;

namespace Motey.Host.Configuration;

/// <summary>
/// What config.ini must say before a channel may leave loopback, checked when it is read so the agent refuses to start
/// instead of opening a port to anyone (exit 2, naming the setting). In secure mode (the default): REST beyond loopback
/// needs tokens and TLS unless [WEBSERVER] insecure = true; ZeroMQ beyond loopback needs the cluster's CURVE key; MQTT
/// beyond loopback needs TLS and a login (and the embedded broker a certificate and a password file). In open mode
/// ([SECURITY] mode = open, for clusters with nodes of the original Motey) every channel may be plain, REST included, and a
/// config.ini that others can read while it holds the MQTT password is a warning (open mode sends it in clear anyway):
/// the original's own config.ini starts with that one line added, and every refusal it would meet in secure mode says so
/// (<see cref="OpenModeHint"/>). Files that hold secrets must not be open to others, as ssh wants of a private key.
/// </summary>
internal static class SecurityRules
{
    /// <summary>How a secure-mode refusal that a node of the original Motey meets ends: the one line that lifts it.</summary>
    public const string OpenModeHint = "; or add `mode = open` under [SECURITY] to run as openly as the original Motey (warned at every start)";

    public static void Check(MoteySettings settings, ConfigReader r)
    {
        var web = settings.WebServer;
        var mqtt = settings.Mqtt;
        var zmq = settings.ZeroMq;
        var secure = settings.Security.Mode == SecurityMode.Secure;

        // Settings that only make sense together.
        if ((web.TlsCertificate is null) != (web.TlsKey is null))
            throw Need(r, "WEBSERVER", web.TlsCertificate is null ? "tls_certificate" : "tls_key", "tls_certificate and tls_key go together (PEM files)");
        if (web.TlsClientCa is not null && !web.Https)
            throw Need(r, "WEBSERVER", "tls_client_ca", "client certificates need TLS: set tls_certificate and tls_key too");
        if ((mqtt.TlsCertificate is null) != (mqtt.TlsKey is null))
            throw Need(r, "MQTT", mqtt.TlsCertificate is null ? "tls_certificate" : "tls_key", "tls_certificate and tls_key go together (PEM files)");
        if (!mqtt.Embedded && mqtt.TlsCertificate is not null)
            throw Need(r, "MQTT", "tls_certificate", "only the embedded broker (broker = embedded) serves a certificate; an external broker has its own" + Implied(mqtt));
        if (!mqtt.Embedded && mqtt.PasswordFile is not null)
            throw Need(r, "MQTT", "password_file", "only the embedded broker (broker = embedded) reads a password file; an external broker has its own" + Implied(mqtt));
        if (mqtt.Embedded && mqtt.Tls && mqtt.TlsCertificate is null)
            throw Need(r, "MQTT", "tls", "with broker = embedded and tls = true the embedded broker serves TLS: set tls_certificate and tls_key" + Implied(mqtt));
        if (mqtt.Embedded && mqtt.TlsCertificate is not null && !mqtt.Tls)
            throw Need(r, "MQTT", "tls", "the embedded broker serves TLS (tls_certificate is set), so this node must reach it with tls = true" + Implied(mqtt));
        if ((mqtt.Username is null) != (mqtt.Password is null))
            throw Need(r, "MQTT", mqtt.Username is null ? "username" : "password", "username and password go together");
        if (!secure && zmq.ClusterKeyFile is not null)
            throw Need(r, "ZEROMQ", "cluster_key", "[SECURITY] mode = open speaks plain ZeroMQ with nodes of the original Motey: "
                + "remove cluster_key, or set mode = secure");

        // Channels beyond loopback.
        if (secure && !web.Insecure && OpenRest(web))
        {
            throw Need(r, "WEBSERVER", "ip", $"ip = {web.Ip} is beyond loopback, where the REST API needs "
                + (web.TokensFile is null && !web.Https ? "tokens and TLS (tokens, tls_certificate, tls_key)"
                    : web.TokensFile is null ? "tokens (a file of \"role token\" lines)" : "TLS (tls_certificate, tls_key) so tokens do not travel in clear")
                + "; set them, bind ip = 127.0.0.1, or accept an open API with insecure = true" + OpenModeHint);
        }
        var address = NodeIdentity.From(settings.General.Address, web.Ip).Address;
        if (secure && !IsLoopback(address) && zmq.ClusterKeyFile is null)
        {
            throw Need(r, "ZEROMQ", "cluster_key", $"this node's peer sockets bind on {address}, beyond loopback, where ZeroMQ needs the "
                + "cluster's CURVE key (make one with `motey keys generate`, copy it to every node)" + OpenModeHint);
        }
        var events = EndpointHost(zmq.CapabilityEngineEndpoint);
        if (!IsLoopback(events) && !zmq.RemotePublishers)
        {
            throw Need(r, "ZEROMQ", "capability_engine_ipc_path", $"{zmq.CapabilityEngineEndpoint} takes capability events from "
                + "other hosts, but capability_publishers = local: bind it on 127.0.0.1 (or ipc://), or set capability_publishers = any");
        }
        if (secure && !IsLoopback(events) && zmq.ClusterKeyFile is null)
        {
            throw Need(r, "ZEROMQ", "capability_publishers", $"capability events from other hosts ({zmq.CapabilityEngineEndpoint}) need "
                + "the cluster's CURVE key (cluster_key)" + OpenModeHint);
        }
        if (secure)
        {
            var remote = mqtt.Brokers.FirstOrDefault(b => !IsLoopback(b.Host));
            if (remote is not null && (!mqtt.Tls || mqtt.Username is null))
            {
                throw Need(r, "MQTT", mqtt.Tls ? "username" : "tls", $"broker {remote} is beyond loopback, where membership needs TLS "
                    + "(tls = true, ca_file) and a login (username, password)" + Implied(mqtt) + OpenModeHint);
            }
            if (mqtt.Embedded && !IsLoopback(mqtt.Ip) && (mqtt.TlsCertificate is null || mqtt.PasswordFile is null))
            {
                throw Need(r, "MQTT", mqtt.TlsCertificate is null ? "tls_certificate" : "password_file", $"the embedded broker binds "
                    + $"{mqtt.Ip}, beyond loopback, where it needs TLS (tls_certificate, tls_key) and logins (password_file)" + Implied(mqtt) + OpenModeHint);
            }
        }

        // Files with secrets: readable by their owner only.
        Secret(r, "WEBSERVER", "tokens", web.TokensFile);
        Secret(r, "WEBSERVER", "tls_key", web.TlsKey);
        Secret(r, "MQTT", "tls_key", mqtt.TlsKey);
        Secret(r, "MQTT", "password_file", mqtt.PasswordFile);
        Secret(r, "ZEROMQ", "cluster_key", zmq.ClusterKeyFile);
        Readable(r, "WEBSERVER", "tls_certificate", web.TlsCertificate);
        Readable(r, "WEBSERVER", "tls_client_ca", web.TlsClientCa);
        Readable(r, "MQTT", "ca_file", mqtt.CaFile);
        Readable(r, "MQTT", "tls_certificate", mqtt.TlsCertificate);
        if (secure && ReadablePassword(settings) is { } mode)
        {
            throw new ConfigException($"{r.Where("MQTT", "password")}: {settings.SourceFile} holds [MQTT] password but others can read it "
                + $"(mode {mode}): chmod o-rwx it (as ssh wants of its keys), or the password is anyone's" + OpenModeHint);
        }
    }

    /// <summary>What is open in this configuration, said at every start, by `motey status` and by GET /v1/security.</summary>
    public static IReadOnlyList<string> Warnings(MoteySettings settings)
    {
        var warnings = new List<string>();
        var web = settings.WebServer;
        if (settings.Security.Mode == SecurityMode.Open)
        {
            warnings.Add("[SECURITY] mode = open: MQTT and ZeroMQ may run without authentication or encryption, to mix with nodes "
                + "of the original Motey; anyone who reaches them can join the cluster, answer placements and deploy");
        }
        if (OpenRest(web))
        {
            warnings.Add($"{(web.Insecure ? "[WEBSERVER] insecure = true" : "[SECURITY] mode = open")}: the REST API on {web.Ip}:{web.Port} runs "
                + (web.TokensFile is null ? "without authentication: anyone who reaches it can deploy" : "without TLS: tokens travel in clear"));
        }
        if (ReadablePassword(settings) is { } mode)
        {
            warnings.Add($"{settings.SourceFile} holds [MQTT] password and others can read it (mode {mode}): any user of this host can "
                + "join the broker as this node; chmod o-rwx it");
        }
        return warnings;
    }

    /// <summary>Why the broker is embedded or external when config.ini does not say: appended to a message about it.</summary>
    public static string Implied(MqttSettings mqtt) => !mqtt.BrokerImplied ? ""
        : mqtt.Embedded ? $" ([MQTT] broker is not set and ip = {mqtt.Ip} is this host's, so this node hosts the broker: set broker = external to use one already there)"
        : $" ([MQTT] broker is not set and ip = {mqtt.Ip} is not this host's, so the broker there is used: set broker = embedded to host it here)";

    /// <summary>REST beyond loopback without tokens or without TLS: refused in secure mode unless insecure = true; warned when allowed.</summary>
    private static bool OpenRest(WebServerSettings web) => !IsLoopback(web.Ip) && (web.TokensFile is null || !web.Https);

    /// <summary>The config file's mode when it holds [MQTT] password and others may read it; else null.</summary>
    private static string? ReadablePassword(MoteySettings settings) =>
        settings.Mqtt.Password is not null && settings.SourceFile is { } config ? OpenTo(config, others: true) : null;

    /// <summary>True for a loopback address (127.0.0.0/8, ::1) and <c>localhost</c>; false for any other address or host name.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The host of a <c>tcp://host:port</c> endpoint; <c>localhost</c> for <c>ipc://</c> (a Unix socket: local by nature).</summary>
    private static string EndpointHost(string endpoint)
    {
        if (!endpoint.StartsWith("tcp://", StringComparison.Ordinal)) return "localhost";
        var hostPort = endpoint["tcp://".Length..];
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 ? hostPort[..colon] : hostPort;
    }

    private static void Secret(ConfigReader r, string section, string key, string? path)
    {
        if (path is null) return;
        Readable(r, section, key, path);
        if (OpenTo(path, others: false) is { } mode)
        {
            throw new ConfigException($"{r.Where(section, key)}: [{section}] {key} = {path} holds a secret but its group or others "
                + $"can use it (mode {mode}): chmod 600 it, as ssh wants of a private key");
        }
    }

    private static void Readable(ConfigReader r, string section, string key, string? path)
    {
        if (path is null) return;
        try
        {
            using var _ = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{r.Where(section, key)}: [{section}] {key} = {path} cannot be read: {e.Message}");
        }
    }

    /// <summary>The file's mode in octal when others (or, with <paramref name="others"/> false, its group too) have any access; else null.</summary>
    private static string? OpenTo(string path, bool others)
    {
        if (OperatingSystem.IsWindows()) return null;
        var mode = File.GetUnixFileMode(path);
        var open = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if (!others) open |= UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;
        return (mode & open) != 0 ? Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0') : null;
    }

    private static ConfigException Need(ConfigReader r, string section, string key, string what) =>
        new($"{r.Where(section, key)}: [{section}] {key}: {what}");
}
