using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Motey.Host.Core.Orchestration;
using Serilog.Events;

namespace Motey.Host.Configuration;

/// <summary>
/// Reads config.ini into <see cref="MoteySettings"/>. Keys that are absent take the embedded defaults
/// (the same values as the repository's config.ini); a value that is present but wrong stops the start
/// with a message naming the file, section and key.
/// </summary>
internal static class ConfigLoader
{
    public const string DefaultFileName = "config.ini";

    /// <summary>The embedded defaults, section → key → value. The repository's config.ini says the same.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Defaults =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["GENERAL"] = new Dictionary<string, string> { ["app_name"] = "motey", ["pid"] = "run/motey.pid", ["address"] = "" },
            ["LOGGER"] = new Dictionary<string, string>
            {
                ["name"] = "motey", ["log_path"] = "logs", ["file_name"] = "motey.log", ["level"] = "Information",
            },
            ["WEBSERVER"] = new Dictionary<string, string> { ["ip"] = "127.0.0.1", ["port"] = "5023", ["max_body_bytes"] = "1048576" },
            ["MQTT"] = new Dictionary<string, string>
            {
                ["broker"] = "embedded", ["ip"] = "127.0.0.1", ["port"] = "1883", ["keepalive"] = "60",
                ["username"] = "", ["password"] = "", ["reconnect_max"] = "30",
            },
            ["DATABASE"] = new Dictionary<string, string> { ["path"] = "data/motey.db" },
            ["ZEROMQ"] = new Dictionary<string, string>
            {
                ["capability_engine_ipc_path"] = "tcp://127.0.0.1:5090",
                ["capabilities_replier"] = "5091",
                ["deploy_image_replier"] = "5092",
                ["image_status_replier"] = "5093",
                ["image_terminate_replier"] = "5094",
                ["request_timeout"] = "5",
                ["deploy_timeout"] = "330",
            },
            ["DOCKER"] = new Dictionary<string, string>
            {
                ["url"] = "unix:///var/run/docker.sock", ["pull_timeout"] = "300", ["stop_timeout"] = "10",
            },
            ["PLUGINS"] = new Dictionary<string, string>
            {
                ["path"] = "", ["activation_timeout"] = "10", ["call_timeout"] = "300", ["health_interval"] = "5",
            },
            ["ORCHESTRATOR"] = new Dictionary<string, string>
            {
                ["reconcile_interval"] = "1", ["restart_backoff"] = "1", ["restart_backoff_max"] = "60",
                ["wait_retry"] = "5", ["fence_interval"] = "10", ["orphan_grace"] = "120",
            },
            ["SIMULATED"] = new Dictionary<string, string> { ["start_delay_ms"] = "200", ["failure_rate"] = "0" },
        };

    /// <summary>
    /// Finds the config file: the explicit path, else $MOTEY_CONFIG, else config.ini beside the executable;
    /// with none of them, the embedded defaults with paths relative to the executable's folder.
    /// </summary>
    public static MoteySettings Load(string? explicitPath)
    {
        var path = explicitPath ?? Environment.GetEnvironmentVariable("MOTEY_CONFIG");
        if (!string.IsNullOrWhiteSpace(path))
        {
            var full = Path.GetFullPath(path);
            if (!File.Exists(full)) throw new ConfigException($"{full}: config file not found");
            return LoadFile(full);
        }
        var besideExecutable = Path.Combine(AppContext.BaseDirectory, DefaultFileName);
        return File.Exists(besideExecutable) ? LoadFile(besideExecutable) : LoadDefaults(AppContext.BaseDirectory);
    }

    public static MoteySettings LoadFile(string file)
    {
        IConfigurationRoot raw;
        try
        {
            raw = new ConfigurationBuilder().AddInMemoryCollection(Flatten()).AddIniFile(file, optional: false).Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{file}: cannot read the config file: {e.Message}");
        }
        return Bind(raw, Path.GetDirectoryName(file)!, file);
    }

    public static MoteySettings LoadDefaults(string baseDirectory) =>
        Bind(new ConfigurationBuilder().AddInMemoryCollection(Flatten()).Build(), baseDirectory, null);

    private static IEnumerable<KeyValuePair<string, string?>> Flatten() =>
        Defaults.SelectMany(section => section.Value.Select(
            key => new KeyValuePair<string, string?>($"{section.Key}:{key.Key}", key.Value)));

    private static MoteySettings Bind(IConfiguration raw, string baseDirectory, string? file)
    {
        var r = new Reader(raw, baseDirectory, file ?? "embedded defaults");
        return new MoteySettings
        {
            SourceFile = file,
            BaseDirectory = baseDirectory,
            Raw = raw,
            General = new GeneralSettings(r.Text("GENERAL", "app_name"), r.FilePath("GENERAL", "pid"), r.Text("GENERAL", "address", allowEmpty: true)),
            Logger = new LoggerSettings(
                r.Text("LOGGER", "name"), r.FilePath("LOGGER", "log_path"), r.Text("LOGGER", "file_name"), r.LogLevel("LOGGER", "level")),
            WebServer = new WebServerSettings(r.Ip("WEBSERVER", "ip"), r.Port("WEBSERVER", "port", allowZero: true), r.Int("WEBSERVER", "max_body_bytes", 1024, int.MaxValue)),
            Mqtt = new MqttSettings(
                r.Choice("MQTT", "broker", "embedded", "external") == "embedded",
                r.Ip("MQTT", "ip"), r.Port("MQTT", "port"), r.Int("MQTT", "keepalive", 1, 65535),
                r.Text("MQTT", "username", allowEmpty: true) is { Length: > 0 } user ? user : null,
                r.Text("MQTT", "password", allowEmpty: true) is { Length: > 0 } password ? password : null,
                r.Seconds("MQTT", "reconnect_max")),
            Database = new DatabaseSettings(r.FilePath("DATABASE", "path")),
            ZeroMq = new ZeroMqSettings(
                r.Endpoint("ZEROMQ", "capability_engine_ipc_path"),
                r.Port("ZEROMQ", "capabilities_replier"), r.Port("ZEROMQ", "deploy_image_replier"),
                r.Port("ZEROMQ", "image_status_replier"), r.Port("ZEROMQ", "image_terminate_replier"),
                r.Seconds("ZEROMQ", "request_timeout"), r.Seconds("ZEROMQ", "deploy_timeout")),
            Plugins = new PluginSettings(
                r.Text("PLUGINS", "path", allowEmpty: true) is { Length: > 0 } ? r.FilePath("PLUGINS", "path") : Path.Combine(AppContext.BaseDirectory, "plugins"),
                r.Seconds("PLUGINS", "activation_timeout"), r.Seconds("PLUGINS", "call_timeout"), r.Seconds("PLUGINS", "health_interval")),
            Orchestrator = new OrchestratorSettings(
                r.Seconds("ORCHESTRATOR", "reconcile_interval"), r.Seconds("ORCHESTRATOR", "restart_backoff"), r.Seconds("ORCHESTRATOR", "restart_backoff_max"))
            {
                WaitRetry = r.Seconds("ORCHESTRATOR", "wait_retry"),
                FenceInterval = r.Seconds("ORCHESTRATOR", "fence_interval"),
                OrphanGrace = r.Seconds("ORCHESTRATOR", "orphan_grace"),
            },
        };
    }

    /// <summary>Reads one typed value, or throws a <see cref="ConfigException"/> that says where and what.</summary>
    private sealed class Reader(IConfiguration raw, string baseDirectory, string source)
    {
        public string Text(string section, string key, bool allowEmpty = false)
        {
            var value = (raw[$"{section}:{key}"] ?? "").Trim();
            if (!allowEmpty && value.Length == 0) throw Bad(section, key, value, "a non-empty value");
            return value;
        }

        public string FilePath(string section, string key) => Path.GetFullPath(Text(section, key), baseDirectory);

        public int Int(string section, string key, int min, int max)
        {
            var text = Text(section, key);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
                throw Bad(section, key, text, $"a whole number from {min} to {max}");
            return value;
        }

        public int Port(string section, string key, bool allowZero = false) => Int(section, key, allowZero ? 0 : 1, 65535);

        public TimeSpan Seconds(string section, string key)
        {
            var text = Text(section, key);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > 86_400)
                throw Bad(section, key, text, "a number of seconds greater than 0 (at most 86400)");
            return TimeSpan.FromSeconds(value);
        }

        public string Ip(string section, string key)
        {
            var text = Text(section, key);
            if (!IPAddress.TryParse(text, out _)) throw Bad(section, key, text, "an IP address such as 127.0.0.1");
            return text;
        }

        public string Choice(string section, string key, params string[] choices)
        {
            var text = Text(section, key);
            if (!choices.Contains(text, StringComparer.Ordinal)) throw Bad(section, key, text, "one of " + string.Join(", ", choices));
            return text;
        }

        public string Endpoint(string section, string key)
        {
            var text = Text(section, key);
            if (!text.StartsWith("tcp://", StringComparison.Ordinal) && !text.StartsWith("ipc://", StringComparison.Ordinal))
                throw Bad(section, key, text, "a ZeroMQ endpoint such as tcp://127.0.0.1:5090");
            return text;
        }

        public LogEventLevel LogLevel(string section, string key)
        {
            var text = Text(section, key);
            if (!Enum.TryParse<LogEventLevel>(text, ignoreCase: true, out var level) || !Enum.IsDefined(level) || int.TryParse(text, out _))
                throw Bad(section, key, text, "one of " + string.Join(", ", Enum.GetNames<LogEventLevel>()));
            return level;
        }

        private ConfigException Bad(string section, string key, string value, string expected) =>
            new($"{source}: [{section}] {key} = '{value}' is invalid: expected {expected}");
    }
}
