using Motey.Host.Core.Orchestration;

namespace Motey.Host.Configuration;

/// <summary>Everything config.ini says, parsed and checked. Paths are absolute.</summary>
internal sealed record MoteySettings
{
    /// <summary>The config file these settings came from; null when the embedded defaults are used.</summary>
    public string? SourceFile { get; init; }
    /// <summary>Folder that relative paths were resolved against.</summary>
    public required string BaseDirectory { get; init; }

    public required GeneralSettings General { get; init; }
    public required LoggerSettings Logger { get; init; }
    public required WebServerSettings WebServer { get; init; }
    public required MqttSettings Mqtt { get; init; }
    public required DatabaseSettings Database { get; init; }
    public required ZeroMqSettings ZeroMq { get; init; }
    public required PluginSettings Plugins { get; init; }
    public required OrchestratorSettings Orchestrator { get; init; }
    public SecuritySettings Security { get; init; } = new(SecurityMode.Secure);

    /// <summary>The raw configuration, so each plugin can read its own section (e.g. [DOCKER]).</summary>
    public required Microsoft.Extensions.Configuration.IConfiguration Raw { get; init; }
}

internal sealed record GeneralSettings(string AppName, string PidFile, string Address);

internal sealed record LoggerSettings(string Name, string LogPath, string FileName, Serilog.Events.LogEventLevel Level)
{
    /// <summary>Size at which the log file is rolled to <c>FILE.1</c>.</summary>
    public const long FileSizeLimitBytes = 10 * 1024 * 1024;
    /// <summary>Rolled files kept beside the log file (<c>FILE.1</c> … <c>FILE.14</c>).</summary>
    public const int RolledFiles = 14;

    /// <summary>The file the agent logs to, exactly as configured (the rolled ones are beside it).</summary>
    public string FilePath => Path.Combine(LogPath, FileName);

    /// <summary>
    /// Where `motey start` sends the agent's standard output and error (its ready line, a fatal line, a crash's stack
    /// trace): motey.out beside motey.log.
    /// </summary>
    public string OutputFilePath => Path.Combine(LogPath,
        Path.GetFileNameWithoutExtension(FileName) + ".out" is var name && name != FileName ? name : FileName + ".out");
}

internal sealed record WebServerSettings(string Ip, int Port, long MaxBodyBytes)
{
    /// <summary>[WEBSERVER] tokens: a file of "role token" lines (role read or admin); null = no authentication.</summary>
    public string? TokensFile { get; init; }
    /// <summary>[WEBSERVER] tls_certificate and tls_key (PEM): the API serves HTTPS; null = plain HTTP.</summary>
    public string? TlsCertificate { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>[WEBSERVER] tls_client_ca (PEM): clients must present a certificate signed by one of these CAs.</summary>
    public string? TlsClientCa { get; init; }
    /// <summary>[WEBSERVER] insecure: bind beyond loopback without tokens or TLS (warned at every start).</summary>
    public bool Insecure { get; init; }
    /// <summary>[WEBSERVER] cors_origins: the browser origins whose pages may call the API (<c>*</c>: any); empty = none.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];
    /// <summary>[WEBSERVER] dashboard: the web dashboard at <c>/</c> (its files only; what it shows comes from the API).</summary>
    public bool Dashboard { get; init; } = true;

    public bool Https => TlsCertificate is not null;
}

/// <param name="Embedded">True: this node hosts the broker itself on Ip:Port (MQTTnet); false: an external broker (mosquitto, ...) is there.</param>
/// <param name="Brokers">The brokers membership tries, in order ([MQTT] brokers; Ip:Port when that is empty).</param>
internal sealed record MqttSettings(bool Embedded, string Ip, int Port, int KeepAliveSeconds, string? Username, string? Password, TimeSpan ReconnectMax,
    Membership.BrokerList Brokers)
{
    /// <summary>True when config.ini has no [MQTT] broker value, so <see cref="Embedded"/> follows from whether ip is this host's.</summary>
    public bool BrokerImplied { get; init; }
    /// <summary>[MQTT] tls: this node reaches its brokers over TLS.</summary>
    public bool Tls { get; init; }
    /// <summary>[MQTT] ca_file (PEM): the CA that signed the brokers' certificates; null = the system's trust store.</summary>
    public string? CaFile { get; init; }
    /// <summary>[MQTT] tls_certificate and tls_key (PEM): the embedded broker serves TLS on its port.</summary>
    public string? TlsCertificate { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>[MQTT] password_file (mosquitto_passwd format): the logins the embedded broker accepts; null = anyone.</summary>
    public string? PasswordFile { get; init; }
    /// <summary>
    /// [MQTT] queue_limit: messages the embedded broker holds for one client that reads slower than they come, before it
    /// drops the oldest. A joining node receives one retained presence per node at once: this must exceed the cluster's
    /// size (MQTTnet's own default, 250, dropped memberships from 250 nodes on).
    /// </summary>
    public int QueueLimit { get; init; } = 65536;
}

/// <param name="Path">The SQLite file: [DATABASE] path, or motey.db inside it when it names a folder.</param>
internal sealed record DatabaseSettings(string Path);

internal sealed record ZeroMqSettings(
    string CapabilityEngineEndpoint,
    int CapabilitiesReplier,
    int DeployImageReplier,
    int ImageStatusReplier,
    int ImageTerminateReplier,
    TimeSpan RequestTimeout,
    TimeSpan DeployTimeout)
{
    /// <summary>[ZEROMQ] cluster_key: the cluster's CURVE key file (`motey keys generate`); null = plain ZeroMQ.</summary>
    public string? ClusterKeyFile { get; init; }
    /// <summary>[ZEROMQ] capability_publishers = any: capability events from other hosts too; false (local) = loopback or ipc only.</summary>
    public bool RemotePublishers { get; init; }
}

/// <summary>Secure: every channel that leaves loopback is authenticated and encrypted; open: MQTT and ZeroMQ may be plain.</summary>
internal enum SecurityMode
{
    Secure,
    Open,
}

/// <summary>[SECURITY] mode: open mixes with nodes of the original Motey, which speak plain MQTT and ZeroMQ.</summary>
internal sealed record SecuritySettings(SecurityMode Mode);

/// <param name="Watch">Whether changes to the plugins folder are picked up while the node runs ([PLUGINS] watch); a rescan
/// (POST /v1/plugins/rescan, <c>motey plugins rescan</c>) works either way.</param>
/// <param name="WatchDebounce">How long the folder must stay quiet after a change before it is scanned ([PLUGINS] watch_debounce).</param>
internal sealed record PluginSettings(
    string Path, TimeSpan ActivationTimeout, TimeSpan CallTimeout, TimeSpan HealthInterval, bool Watch, TimeSpan WatchDebounce);
