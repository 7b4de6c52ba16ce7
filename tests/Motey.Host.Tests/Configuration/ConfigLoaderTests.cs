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
        Assert.Contains(config, error.Message);
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
}
