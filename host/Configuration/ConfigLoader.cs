using Microsoft.Extensions.Configuration;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Configuration;

/// <summary>
/// Reads config.ini into <see cref="MoteySettings"/>. Keys that are absent take the embedded defaults
/// (the same values as the repository's config.ini); a value that is present but wrong, a section or key the agent
/// does not know (<see cref="ConfigNames"/>) or a key set twice stops the start with a message naming file, line,
/// section and key.
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
            ["WEBSERVER"] = new Dictionary<string, string>
            {
                ["ip"] = "127.0.0.1", ["port"] = "5023", ["max_body_bytes"] = "1048576",
                ["tokens"] = "", ["tls_certificate"] = "", ["tls_key"] = "", ["tls_client_ca"] = "", ["insecure"] = "false",
                ["cors_origins"] = "", ["dashboard"] = "true",
            },
            ["MQTT"] = new Dictionary<string, string>
            {
                ["broker"] = "", ["ip"] = "127.0.0.1", ["port"] = "1883", ["keepalive"] = "60",
                ["username"] = "", ["password"] = "", ["reconnect_max"] = "30", ["brokers"] = "",
                ["tls"] = "false", ["ca_file"] = "", ["tls_certificate"] = "", ["tls_key"] = "", ["password_file"] = "",
                ["queue_limit"] = "65536",
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
                ["cluster_key"] = "",
                ["capability_publishers"] = "local",
            },
            ["SECURITY"] = new Dictionary<string, string> { ["mode"] = "secure" },
            ["DOCKER"] = new Dictionary<string, string>
            {
                ["url"] = "unix:///var/run/docker.sock", ["pull_timeout"] = "300", ["stop_timeout"] = "10",
                ["allow_privileged"] = "false", ["allow_host_network"] = "false", ["allow_host_pid"] = "false", ["allow_host_ipc"] = "false",
                ["allowed_capabilities"] = "", ["allowed_devices"] = "", ["allowed_bind_paths"] = "",
            },
            ["PROCESS"] = new Dictionary<string, string> { ["allowed_executables"] = "", ["run_as"] = "", ["log_max_bytes"] = "10485760" },
            ["PLUGINS"] = new Dictionary<string, string>
            {
                ["path"] = "", ["sections"] = "", ["activation_timeout"] = "10", ["call_timeout"] = "300", ["health_interval"] = "5",
                ["watch"] = "true", ["watch_debounce"] = "2",
            },
            ["ORCHESTRATOR"] = new Dictionary<string, string>
            {
                ["reconcile_interval"] = "1", ["restart_backoff"] = "1", ["restart_backoff_max"] = "60",
                ["wait_retry"] = "5", ["fence_interval"] = "10", ["orphan_grace"] = "120",
            },
            ["SIMULATED"] = new Dictionary<string, string> { ["start_delay_ms"] = "200", ["failure_rate"] = "0", ["seed"] = "", ["log_interval_ms"] = "1000" },
        };

    /// <summary>
    /// Finds the config file: the explicit path, else $MOTEY_CONFIG, else config.ini beside the executable;
    /// with none of them, the embedded defaults with paths relative to the executable's folder.
    /// </summary>
    public static MoteySettings Load(string? explicitPath)
    {
        if (Locate(explicitPath) is not { } file) return LoadDefaults(AppContext.BaseDirectory);
        if (!File.Exists(file)) throw new ConfigException($"{file}: config file not found");
        return LoadFile(file);
    }

    /// <summary>The config file <see cref="Load"/> reads (full path, maybe missing when given explicitly); null for the embedded defaults.</summary>
    public static string? Locate(string? explicitPath)
    {
        var path = explicitPath ?? Environment.GetEnvironmentVariable("MOTEY_CONFIG");
        if (!string.IsNullOrWhiteSpace(path)) return Path.GetFullPath(path);
        var besideExecutable = Path.Combine(AppContext.BaseDirectory, DefaultFileName);
        return File.Exists(besideExecutable) ? besideExecutable : null;
    }

    public static MoteySettings LoadFile(string file)
    {
        var ini = IniFile.Read(file);
        var written = ini.Sections.SelectMany(section => section.Entries)
            .Select(entry => new KeyValuePair<string, string?>($"{entry.Section}:{entry.Key}", entry.Value));
        var raw = new ConfigurationBuilder().AddInMemoryCollection(Flatten()).AddInMemoryCollection(written).Build();
        var baseDirectory = Path.GetDirectoryName(file)!;
        // A bad value is reported at its line; a key the file does not set has its (valid) default.
        var r = new ConfigReader(raw, baseDirectory, (section, key) => ini.Find(section, key) is { } entry ? ini.At(entry.Line) : file);
        ConfigNames.Check(ini, () => ConfigNames.PluginSections(PluginsFolder(r), r.Text("PLUGINS", "sections", allowEmpty: true)));
        return Bind(r, raw, baseDirectory, file);
    }

    public static MoteySettings LoadDefaults(string baseDirectory)
    {
        var raw = new ConfigurationBuilder().AddInMemoryCollection(Flatten()).Build();
        return Bind(new ConfigReader(raw, baseDirectory, (_, _) => "embedded defaults"), raw, baseDirectory, null);
    }

    private static IEnumerable<KeyValuePair<string, string?>> Flatten() =>
        Defaults.SelectMany(section => section.Value.Select(
            key => new KeyValuePair<string, string?>($"{section.Key}:{key.Key}", key.Value)));

    /// <summary>[PLUGINS] path, or "plugins" beside the motey executable when it is empty.</summary>
    private static string PluginsFolder(ConfigReader r) =>
        r.Text("PLUGINS", "path", allowEmpty: true) is { Length: > 0 } ? r.FilePath("PLUGINS", "path") : Path.Combine(AppContext.BaseDirectory, "plugins");

    private static MoteySettings Bind(ConfigReader r, IConfiguration raw, string baseDirectory, string? file)
    {
        ShippedPluginSettings.Check(r);
        var settings = Read(r, raw, baseDirectory, file);
        SecurityRules.Check(settings, r);
        Peers.ClusterKey.Check(settings.ZeroMq, r);
        return settings;
    }

    private static MoteySettings Read(ConfigReader r, IConfiguration raw, string baseDirectory, string? file)
    {
        var embedded = Embedded(r);
        return new MoteySettings
        {
            SourceFile = file,
            BaseDirectory = baseDirectory,
            Raw = raw,
            General = new GeneralSettings(r.Text("GENERAL", "app_name"), r.FilePath("GENERAL", "pid"), r.Text("GENERAL", "address", allowEmpty: true)),
            Logger = new LoggerSettings(
                r.Text("LOGGER", "name"), r.FilePath("LOGGER", "log_path"), r.Text("LOGGER", "file_name"), r.LogLevel("LOGGER", "level")),
            WebServer = new WebServerSettings(r.Ip("WEBSERVER", "ip"), r.Port("WEBSERVER", "port", allowZero: true), r.Int("WEBSERVER", "max_body_bytes", 1024, int.MaxValue))
            {
                TokensFile = r.OptionalFilePath("WEBSERVER", "tokens"),
                TlsCertificate = r.OptionalFilePath("WEBSERVER", "tls_certificate"),
                TlsKey = r.OptionalFilePath("WEBSERVER", "tls_key"),
                TlsClientCa = r.OptionalFilePath("WEBSERVER", "tls_client_ca"),
                Insecure = r.Bool("WEBSERVER", "insecure"),
                CorsOrigins = CorsOrigins(r),
                Dashboard = r.Bool("WEBSERVER", "dashboard"),
            },
            Mqtt = new MqttSettings(
                embedded,
                r.Ip("MQTT", "ip"), r.Port("MQTT", "port"), r.Int("MQTT", "keepalive", 1, 65535),
                r.Text("MQTT", "username", allowEmpty: true) is { Length: > 0 } user ? user : null,
                r.Text("MQTT", "password", allowEmpty: true) is { Length: > 0 } password ? password : null,
                r.Seconds("MQTT", "reconnect_max"),
                Brokers(r, embedded))
            {
                BrokerImplied = r.Text("MQTT", "broker", allowEmpty: true).Length == 0,
                Tls = r.Bool("MQTT", "tls"),
                CaFile = r.OptionalFilePath("MQTT", "ca_file"),
                TlsCertificate = r.OptionalFilePath("MQTT", "tls_certificate"),
                TlsKey = r.OptionalFilePath("MQTT", "tls_key"),
                PasswordFile = r.OptionalFilePath("MQTT", "password_file"),
                QueueLimit = r.Int("MQTT", "queue_limit", 250, 10_000_000),
            },
            Database = new DatabaseSettings(DatabaseFile(r)),
            ZeroMq = new ZeroMqSettings(
                r.Endpoint("ZEROMQ", "capability_engine_ipc_path"),
                r.Port("ZEROMQ", "capabilities_replier"), r.Port("ZEROMQ", "deploy_image_replier"),
                r.Port("ZEROMQ", "image_status_replier"), r.Port("ZEROMQ", "image_terminate_replier"),
                r.Seconds("ZEROMQ", "request_timeout"), r.Seconds("ZEROMQ", "deploy_timeout"))
            {
                ClusterKeyFile = r.OptionalFilePath("ZEROMQ", "cluster_key"),
                RemotePublishers = r.Choice("ZEROMQ", "capability_publishers", "local", "any") == "any",
            },
            Security = new SecuritySettings(r.Choice("SECURITY", "mode", "secure", "open") == "open" ? SecurityMode.Open : SecurityMode.Secure),
            Plugins = new PluginSettings(
                PluginsFolder(r),
                r.Seconds("PLUGINS", "activation_timeout"), r.Seconds("PLUGINS", "call_timeout"), r.Seconds("PLUGINS", "health_interval"),
                r.Bool("PLUGINS", "watch"), r.Seconds("PLUGINS", "watch_debounce")),
            Orchestrator = new OrchestratorSettings(
                r.Seconds("ORCHESTRATOR", "reconcile_interval"), r.Seconds("ORCHESTRATOR", "restart_backoff"), r.Seconds("ORCHESTRATOR", "restart_backoff_max"))
            {
                WaitRetry = r.Seconds("ORCHESTRATOR", "wait_retry"),
                FenceInterval = r.Seconds("ORCHESTRATOR", "fence_interval"),
                OrphanGrace = r.Seconds("ORCHESTRATOR", "orphan_grace"),
            },
        };
    }

    /// <summary>
    /// [WEBSERVER] cors_origins: browser origins (<c>scheme://host[:port]</c>, comma-separated) whose pages may call the API,
    /// or <c>*</c> for any; empty = none. An origin with a path, query or another scheme is refused, as a browser never sends one.
    /// </summary>
    private static string[] CorsOrigins(ConfigReader r)
    {
        var text = r.Text("WEBSERVER", "cors_origins", allowEmpty: true);
        var origins = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var origin in origins)
        {
            if (origin == "*") continue;
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.GetLeftPart(UriPartial.Authority) != origin.TrimEnd('/') || origin.EndsWith('/'))
                throw r.Bad("WEBSERVER", "cors_origins", text, $"origins such as https://dashboard.example:8443 separated by commas, or * ('{origin}' is not an origin)");
        }
        if (origins.Contains("*") && origins.Length > 1)
            throw r.Bad("WEBSERVER", "cors_origins", text, "either * (any origin) or a list of origins, not both");
        return origins;
    }

    /// <summary>
    /// [MQTT] broker: embedded (this node hosts the broker on ip:port) or external (a broker listens there). Without a value,
    /// embedded when ip is this host's own (loopback, or an address of one of its interfaces), else external: the original
    /// Motey, which has no such key, always joined the broker at ip:port.
    /// </summary>
    private static bool Embedded(ConfigReader r) =>
        r.Text("MQTT", "broker", allowEmpty: true).Length > 0
            ? r.Choice("MQTT", "broker", "embedded", "external") == "embedded"
            : ThisHost.Owns(r.Ip("MQTT", "ip"));

    /// <summary>
    /// [DATABASE] path: the SQLite file; a folder holds it as <see cref="DatabaseFileName"/>, as the original Motey kept its
    /// TinyDB files in the folder this key named (those json files are not read). A folder is one that exists, a path
    /// ending in /, or a path that is not an existing file and has no extension (the original's <c>motey/databases</c> on a
    /// machine where it never ran); an existing file or a name with an extension (<c>node.db</c>) is the file itself.
    /// </summary>
    private static string DatabaseFile(ConfigReader r)
    {
        var text = r.Text("DATABASE", "path");
        var path = r.FilePath("DATABASE", "path");
        var folder = text.EndsWith('/') || text.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(path)
            || (!File.Exists(path) && !Path.HasExtension(path));
        return folder ? Path.Combine(path, DatabaseFileName) : path;
    }

    /// <summary>The database file's name inside a folder named by [DATABASE] path.</summary>
    public const string DatabaseFileName = "motey.db";

    /// <summary>[MQTT] brokers in order; ip:port when empty (see <see cref="Membership.BrokerEndpoint.ParseList"/>).</summary>
    private static Membership.BrokerList Brokers(ConfigReader r, bool embedded)
    {
        var text = r.Text("MQTT", "brokers", allowEmpty: true);
        return Membership.BrokerEndpoint.ParseList(text, embedded, r.Ip("MQTT", "ip"), r.Port("MQTT", "port"), out var problem)
            ?? throw r.Bad("MQTT", "brokers", text, $"brokers as host:port separated by commas ({problem})");
    }
}
