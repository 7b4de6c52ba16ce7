using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    private static string RepositoryConfig()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Motey.Host.sln"))) return Path.Combine(dir.FullName, "config.ini");
        }
        throw new FileNotFoundException("Motey.Host.sln not found above the test folder");
    }

    [Fact]
    public void The_repository_config_ini_says_exactly_what_the_embedded_defaults_say()
    {
        var file = ConfigLoader.LoadFile(RepositoryConfig());
        var defaults = ConfigLoader.LoadDefaults(Path.GetDirectoryName(RepositoryConfig())!);
        Assert.Equal(defaults with { SourceFile = null, Raw = null! }, file with { SourceFile = null, Raw = null! });
        foreach (var (section, keys) in ConfigLoader.Defaults)
            foreach (var (key, value) in keys)
                Assert.True(file.Raw[$"{section}:{key}"] == value, $"[{section}] {key}: config.ini says '{file.Raw[$"{section}:{key}"]}', the default is '{value}'");
    }

    [Fact]
    public void The_systemd_config_differs_from_the_repository_config_only_where_state_logs_and_the_pid_live()
    {
        var repository = RepositoryConfig();
        var deployed = Path.Combine(Path.GetDirectoryName(repository)!, "deploy", "config.ini");
        var settings = ConfigLoader.LoadFile(deployed);
        Assert.Equal("/var/lib/motey/motey.db", settings.Database.Path);
        Assert.Equal("/var/log/motey/motey.log", settings.Logger.FilePath);
        Assert.Equal("/run/motey/motey.pid", settings.General.PidFile);

        static string[] Settings(string file) => File.ReadLines(file).Where(l => l.Length > 0 && l[0] != ';').ToArray();
        var differences = Settings(repository).Zip(Settings(deployed)).Where(pair => pair.First != pair.Second).ToList();
        Assert.Equal(Settings(repository).Length, Settings(deployed).Length);
        Assert.Equal(
            [("pid = run/motey.pid", "pid = /run/motey/motey.pid"), ("log_path = logs", "log_path = /var/log/motey"), ("path = data/motey.db", "path = /var/lib/motey/motey.db")],
            differences);
    }

    [Fact]
    public void Defaults_bind_loopback_and_the_seed_ports()
    {
        var settings = ConfigLoader.LoadDefaults("/opt/motey");
        Assert.Equal("127.0.0.1", settings.WebServer.Ip);
        Assert.Equal(5023, settings.WebServer.Port);
        Assert.Equal(5091, settings.ZeroMq.CapabilitiesReplier);
        Assert.Equal("tcp://127.0.0.1:5090", settings.ZeroMq.CapabilityEngineEndpoint);
    }

    [Fact]
    public void Relative_paths_resolve_against_the_config_file_folder_not_the_working_directory()
    {
        using var folder = new TestFolder();
        var config = Path.Combine(folder.Path, "node.ini");
        File.WriteAllText(config, "[DATABASE]\npath = db/x.db\n[LOGGER]\nlog_path = ../logs\n");
        var settings = ConfigLoader.LoadFile(config);
        Assert.Equal(Path.Combine(folder.Path, "db", "x.db"), settings.Database.Path);
        Assert.Equal(Path.GetFullPath(Path.Combine(folder.Path, "..", "logs")), settings.Logger.LogPath);
        Assert.Equal(config, settings.SourceFile);
    }

    [Theory]
    [InlineData("[WEBSERVER]\nport = http\n", "[WEBSERVER] port = 'http'")]
    [InlineData("[WEBSERVER]\nport = 70000\n", "[WEBSERVER] port")]
    [InlineData("[WEBSERVER]\nip = localhost:80\n", "[WEBSERVER] ip")]
    [InlineData("[MQTT]\nkeepalive = -1\n", "[MQTT] keepalive")]
    [InlineData("[ZEROMQ]\ndeploy_image_replier = x\n", "[ZEROMQ] deploy_image_replier")]
    [InlineData("[ZEROMQ]\ncapability_engine_ipc_path = 5090\n", "[ZEROMQ] capability_engine_ipc_path")]
    [InlineData("[LOGGER]\nlevel = chatty\n", "[LOGGER] level")]
    [InlineData("[PLUGINS]\nactivation_timeout = 0\n", "[PLUGINS] activation_timeout")]
    [InlineData("[DATABASE]\npath =\n", "[DATABASE] path")]
    public void An_invalid_value_is_refused_naming_file_section_and_key(string ini, string expected)
    {
        using var folder = new TestFolder();
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith($"{config}:2: ", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_ini_is_refused_with_its_path()
    {
        using var folder = new TestFolder();
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, "this is not = [ini\n[broken\n");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
        Assert.Contains(config, error.Message);
    }

    [Fact]
    public void A_missing_explicit_config_file_is_an_error()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/motey.ini"));
        Assert.Contains("/nonexistent/motey.ini", error.Message);
    }

    /// <summary>Writes <paramref name="ini"/> as config.ini in a folder of its own and loads it.</summary>
    private static ConfigException Refused(TestFolder folder, string ini)
    {
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        return Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
    }

    private static MoteySettings Loaded(TestFolder folder, string ini)
    {
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        return ConfigLoader.LoadFile(config);
    }

    [Fact]
    public void A_misspelt_section_is_refused_with_its_line_and_the_nearest_known_section()
    {
        using var folder = new TestFolder();
        var error = Refused(folder, "; node 7\n\n[WEBSEVER]\nport = 5023\n");
        Assert.Equal($"[WEBSEVER] at {folder.Path}/config.ini:3 is not a known section; did you mean [WEBSERVER]?", error.Message);
    }

    [Fact]
    public void A_section_nothing_resembles_is_refused_listing_the_known_ones_and_the_rule_for_plugins()
    {
        using var folder = new TestFolder();
        var error = Refused(folder, "[KUBERNETES]\nnodes = 3\n");
        Assert.StartsWith($"[KUBERNETES] at {folder.Path}/config.ini:1 is not a known section; known: [GENERAL], [LOGGER]", error.Message);
        Assert.Contains("[PLUGINS] path (Motey.Val.Lxc → [LXC]) or its name in [PLUGINS] sections", error.Message);
    }

    [Fact]
    public void A_misspelt_key_is_refused_with_its_line_and_the_nearest_known_key()
    {
        using var folder = new TestFolder();
        var error = Refused(folder, "[WEBSERVER]\nip = 127.0.0.1\nprot = 5023\n");
        Assert.Equal($"[WEBSERVER] prot at {folder.Path}/config.ini:3 is not a known key; did you mean port?", error.Message);
    }

    [Fact]
    public void A_key_in_the_wrong_section_is_refused_naming_the_section_it_belongs_in()
    {
        using var folder = new TestFolder();
        var error = Refused(folder, "[WEBSERVER]\nlevel = Debug\n");
        Assert.Equal($"[WEBSERVER] level at {folder.Path}/config.ini:2 is not a known key; it belongs in [LOGGER]", error.Message);
    }

    [Fact]
    public void A_key_set_twice_is_refused_naming_the_key_and_both_lines()
    {
        using var folder = new TestFolder();
        var error = Refused(folder, "[WEBSERVER]\nport = 5023\nip = 127.0.0.1\n; again\nPort = 5024\n");
        Assert.Equal($"[WEBSERVER] Port is set twice, at {folder.Path}/config.ini:2 and at {folder.Path}/config.ini:5; keep one", error.Message);
    }

    [Fact]
    public void A_section_written_twice_is_refused_naming_both_lines()
    {
        using var folder = new TestFolder();
        var error = Refused(folder, "[MQTT]\nport = 1883\n[DATABASE]\npath = x.db\n[MQTT]\nkeepalive = 5\n");
        Assert.Equal($"[MQTT] at {folder.Path}/config.ini:5 appears a second time (first at {folder.Path}/config.ini:1); keep one", error.Message);
    }

    [Theory]
    [InlineData("[SIMULATED]\nfailure_rate = 2\n", "[SIMULATED] failure_rate = '2' is invalid: expected a number from 0.0 to 1.0")]
    [InlineData("[SIMULATED]\nfailure_rate = -0.1\n", "[SIMULATED] failure_rate = '-0.1'")]
    [InlineData("[SIMULATED]\nstart_delay_ms = -1\n", "[SIMULATED] start_delay_ms = '-1' is invalid: expected a whole number of milliseconds >= 0")]
    [InlineData("[SIMULATED]\nseed = lucky\n", "[SIMULATED] seed = 'lucky'")]
    [InlineData("[DOCKER]\nurl = unix://\n", "[DOCKER] url = 'unix://' is invalid: expected unix:///path/to/docker.sock or tcp://host:port")]
    [InlineData("[DOCKER]\nurl = http://127.0.0.1:2375\n", "[DOCKER] url = 'http://127.0.0.1:2375'")]
    [InlineData("[DOCKER]\npull_timeout = 0\n", "[DOCKER] pull_timeout = '0' is invalid: expected a whole number of seconds from 1 to 86400")]
    [InlineData("[DOCKER]\nstop_timeout = -1\n", "[DOCKER] stop_timeout = '-1'")]
    public void An_out_of_range_setting_of_a_shipped_plugin_stops_the_start_at_its_line(string ini, string expected)
    {
        using var folder = new TestFolder();
        var error = Refused(folder, ini);
        Assert.StartsWith($"{folder.Path}/config.ini:2: {expected}", error.Message);
    }

    [Fact]
    public void Blank_settings_of_a_shipped_plugin_leave_the_plugins_defaults()
    {
        using var folder = new TestFolder();
        var settings = Loaded(folder, "[SIMULATED]\nfailure_rate =\nseed =\n[DOCKER]\nurl =\nstop_timeout = 0\n");
        Assert.Equal("", settings.Raw["SIMULATED:failure_rate"]);
        Assert.Equal("0", settings.Raw["DOCKER:stop_timeout"]);
    }

    [Fact]
    public void A_third_party_plugins_section_is_allowed_when_its_folder_is_in_the_plugins_path()
    {
        using var folder = new TestFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "plugins", "Motey.Val.Lxc"));
        var settings = Loaded(folder, "[PLUGINS]\npath = plugins\n[LXC]\nendpoint = unix:///var/lib/lxd/unix.socket\nwhatever_it_likes = 1\n");
        Assert.Equal("unix:///var/lib/lxd/unix.socket", settings.Raw.GetSection("LXC")["endpoint"]);
        Assert.Equal("1", settings.Raw.GetSection("LXC")["whatever_it_likes"]);
    }

    [Fact]
    public void A_third_party_section_listed_in_plugins_sections_is_allowed()
    {
        using var folder = new TestFolder();
        var settings = Loaded(folder, "[PLUGINS]\npath = nowhere\nsections = KVM, lxc\n[KVM]\nuri = qemu:///system\n[LXC]\nx = 1\n");
        Assert.Equal("qemu:///system", settings.Raw["KVM:uri"]);
    }

    [Fact]
    public void A_misspelt_plugin_section_is_refused_suggesting_the_plugins_folder_name()
    {
        using var folder = new TestFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "plugins", "Motey.Val.Lxc"));
        var error = Refused(folder, "[PLUGINS]\npath = plugins\n[LXD]\nx = 1\n");
        Assert.Equal($"[LXD] at {folder.Path}/config.ini:3 is not a known section; did you mean [LXC]?", error.Message);
    }

    /// <summary>
    /// The original's config.ini, as its repository left it: in secure mode (the default) it is refused, and the refusal
    /// names the one line that lifts it; with only that line added it loads, each value with the meaning it had there,
    /// and everything open is warned.
    /// </summary>
    [Fact]
    public void The_original_Moteys_config_ini_is_refused_naming_the_one_line_and_loads_with_it_meaning_what_it_meant()
    {
        using var folder = new TestFolder();
        var refused = Refused(folder, OriginalConfig);
        Assert.Equal($"{folder.Path}/config.ini:11: [WEBSERVER] ip: ip = 0.0.0.0 is beyond loopback, where the REST API needs tokens and "
            + "TLS (tokens, tls_certificate, tls_key); set them, bind ip = 127.0.0.1, or accept an open API with insecure = true; "
            + "or add `mode = open` under [SECURITY] to run as openly as the original Motey (warned at every start)", refused.Message);

        // As the original's file lies in its repository: readable by everyone, the MQTT password inside.
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, OriginalConfig + "\n[SECURITY]\nmode = open\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var settings = ConfigLoader.LoadFile(config);

        Assert.Equal(SecurityMode.Open, settings.Security.Mode);
        Assert.Equal("Motey", settings.General.AppName);
        Assert.Equal("Motey", settings.Logger.Name);
        Assert.Equal("/var/log/motey/application.log", settings.Logger.FilePath);
        Assert.Equal(("0.0.0.0", 5023), (settings.WebServer.Ip, settings.WebServer.Port));
        // No broker key and 172.17.0.3 is not this host's: the broker there, with the login, as the original always did.
        Assert.False(ThisHost.Owns("172.17.0.3"), "this test needs a host without 172.17.0.3");
        Assert.False(settings.Mqtt.Embedded);
        Assert.True(settings.Mqtt.BrokerImplied);
        Assert.Equal("172.17.0.3:1883", Assert.Single(settings.Mqtt.Brokers).ToString());
        Assert.Equal((60, "neoklosch", "neoklosch"), (settings.Mqtt.KeepAliveSeconds, settings.Mqtt.Username, settings.Mqtt.Password));
        // The database folder does not exist here, but a name without an extension is a folder, as the original meant it.
        Assert.Equal("/opt/Motey/motey/databases/motey.db", settings.Database.Path);
        Assert.Equal("ipc:///tmp/capability_engine.ipc", settings.ZeroMq.CapabilityEngineEndpoint);
        Assert.Equal((5091, 5092, 5093, 5094), (settings.ZeroMq.CapabilitiesReplier, settings.ZeroMq.DeployImageReplier,
            settings.ZeroMq.ImageStatusReplier, settings.ZeroMq.ImageTerminateReplier));
        Assert.Equal("unix://var/run/docker.sock", settings.Raw["DOCKER:url"]);
        Assert.Collection(SecurityRules.Warnings(settings),
            w => Assert.StartsWith("[SECURITY] mode = open: MQTT and ZeroMQ may run without authentication", w),
            w => Assert.Equal("[SECURITY] mode = open: the REST API on 0.0.0.0:5023 runs without authentication: anyone who reaches it can deploy", w),
            w => Assert.Equal($"{config} holds [MQTT] password and others can read it (mode 0644): any user of this host can join the broker "
                + "as this node; chmod o-rwx it", w));
    }

    /// <summary>
    /// Each refusal a node of the original Motey meets in secure mode, one after another as an operator would meet them
    /// by securing what the previous one named, ends with the one line that lifts them all.
    /// </summary>
    [Theory]
    [InlineData("", "[WEBSERVER] ip: ip = 0.0.0.0 is beyond loopback")]
    [InlineData("[WEBSERVER]insecure = true", "[ZEROMQ] cluster_key: this node's peer sockets bind on")]
    [InlineData("[WEBSERVER]insecure = true|[ZEROMQ]cluster_key = cluster.key", "[MQTT] tls: broker 172.17.0.3:1883 is beyond loopback")]
    [InlineData("[WEBSERVER]insecure = true|[ZEROMQ]cluster_key = cluster.key|[MQTT]tls = true", "holds [MQTT] password but others can read it (mode 0644)")]
    public void Every_secure_mode_refusal_of_the_original_Moteys_config_ini_names_the_one_line_to_add(string added, string refusal)
    {
        using var folder = new TestFolder();
        var key = Path.Combine(folder.Path, "cluster.key");
        Motey.Host.Peers.ClusterKey.Generate().Write(key, force: false);
        var ini = OriginalConfig;
        foreach (var line in added.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var section = line[..(line.IndexOf(']') + 1)];
            ini = ini.Replace(section + "\n", section + "\n" + line[section.Length..] + "\n", StringComparison.Ordinal);
        }
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));

        Assert.Contains(refusal, error.Message);
        Assert.EndsWith(SecurityRules.OpenModeHint, error.Message);
    }

    /// <summary>The original Motey's config.ini as its repository's final version has it (motey/configuration/config.ini).</summary>
    private const string OriginalConfig = """
            [GENERAL]
            app_name = Motey
            pid = /var/run/motey.pid

            [LOGGER]
            name = Motey
            log_path = /var/log/motey/
            file_name = application.log

            [WEBSERVER]
            ip = 0.0.0.0
            port = 5023

            [MQTT]
            ip = 172.17.0.3
            port = 1883
            keepalive = 60
            username = neoklosch
            password = neoklosch

            [DATABASE]
            path = /opt/Motey/motey/databases

            [ZEROMQ]
            capability_engine_ipc_path = /tmp/capability_engine.ipc
            capabilities_replier = 5091
            deploy_image_replier = 5092
            image_status_replier = 5093
            image_terminate_replier = 5094

            [DOCKER]
            url = unix://var/run/docker.sock
            """;
}
