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

internal sealed record WebServerSettings(string Ip, int Port, long MaxBodyBytes);

/// <param name="Embedded">True: this node hosts the broker itself on Ip:Port (MQTTnet); false: an external broker (mosquitto, ...) is there.</param>
/// <param name="Brokers">The brokers membership tries, in order ([MQTT] brokers; Ip:Port when that is empty).</param>
internal sealed record MqttSettings(bool Embedded, string Ip, int Port, int KeepAliveSeconds, string? Username, string? Password, TimeSpan ReconnectMax,
    Membership.BrokerList Brokers);

internal sealed record DatabaseSettings(string Path);

internal sealed record ZeroMqSettings(
    string CapabilityEngineEndpoint,
    int CapabilitiesReplier,
    int DeployImageReplier,
    int ImageStatusReplier,
    int ImageTerminateReplier,
    TimeSpan RequestTimeout,
    TimeSpan DeployTimeout);

internal sealed record PluginSettings(string Path, TimeSpan ActivationTimeout, TimeSpan CallTimeout, TimeSpan HealthInterval);
