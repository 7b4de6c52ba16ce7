using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Configuration;

/// <summary>
/// The blueprint policy's settings in config.ini ([DOCKER] allow_* and allowed_*, [PROCESS]): a value the plugin would
/// refuse stops the start at its line, instead of leaving the engine's plugin Failed in an agent that runs.
/// </summary>
public sealed class PolicySettingsTests
{
    private static string Write(TestFolder folder, string ini)
    {
        var config = Path.Combine(folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        return config;
    }

    [Theory]
    [InlineData("[DOCKER]\nallow_privileged = maybe\n", "[DOCKER] allow_privileged = 'maybe' is invalid: expected true or false")]
    [InlineData("[DOCKER]\nallow_host_network = 2\n", "[DOCKER] allow_host_network = '2' is invalid: expected true or false")]
    [InlineData("[DOCKER]\nallowed_capabilities = NET_ADMIN, NET_ADMN\n", "[DOCKER] allowed_capabilities = 'NET_ADMN' is invalid: expected Linux capabilities such as NET_ADMIN")]
    [InlineData("[DOCKER]\nallowed_devices = ttyUSB0\n", "[DOCKER] allowed_devices = 'ttyUSB0' is invalid: expected absolute paths separated by commas")]
    [InlineData("[DOCKER]\nallowed_bind_paths = /srv, data\n", "[DOCKER] allowed_bind_paths = 'data' is invalid: expected absolute paths separated by commas")]
    [InlineData("[DOCKER]\nallowed_bind_paths = /srv/data:/x\n", "[DOCKER] allowed_bind_paths = '/srv/data:/x' is invalid: expected absolute paths separated by commas")]
    [InlineData("[DOCKER]\nallowed_bind_paths = /srv, /\n", "[DOCKER] allowed_bind_paths = '/' is invalid: expected the host folders containers may bind-mount; / (the whole host) is never allowed")]
    [InlineData("[DOCKER]\nallowed_bind_paths = /srv/..\n", "[DOCKER] allowed_bind_paths = '/srv/..' is invalid: expected the host folders containers may bind-mount; / (the whole host) is never allowed")]
    [InlineData("[PROCESS]\nallowed_executables = bin/app\n", "[PROCESS] allowed_executables = 'bin/app' is invalid: expected absolute paths separated by commas")]
    [InlineData("[PROCESS]\nrun_as = motey-no-such-user\n", "[PROCESS] run_as = 'motey-no-such-user' is invalid: expected a user of this node (no such user)")]
    [InlineData("[PROCESS]\nlog_max_bytes = 1000\n", "[PROCESS] log_max_bytes = '1000' is invalid: expected a whole number of bytes from 65536 (64 KiB) to 2147483647")]
    [InlineData("[PROCESS]\nlog_max_bytes = 10 MiB\n", "[PROCESS] log_max_bytes = '10 MiB' is invalid: expected a whole number of bytes from 65536 (64 KiB) to 2147483647")]
    public void A_bad_policy_setting_stops_the_start_at_its_line(string ini, string expected)
    {
        using var folder = new TestFolder();
        var config = Write(folder, ini);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));

        Assert.StartsWith($"{config}:2: {expected}", error.Message);
    }

    [Fact]
    public void A_misspelt_process_key_is_refused_naming_the_right_one()
    {
        using var folder = new TestFolder();
        var config = Write(folder, "[PROCESS]\nallowed_executable = /usr/bin\n");

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));

        Assert.Equal($"[PROCESS] allowed_executable at {config}:2 is not a known key; did you mean allowed_executables?", error.Message);
    }

    [Fact]
    public void A_policy_that_allows_things_loads_and_reaches_the_plugins_sections()
    {
        using var folder = new TestFolder();
        var config = Write(folder, """
            [DOCKER]
            allow_privileged = yes
            allowed_capabilities = cap_net_admin, SYS_TIME
            allowed_devices = /dev/ttyUSB0, /dev/bus/usb
            allowed_bind_paths = /srv/motey, /var/lib/motey-data/
            [PROCESS]
            allowed_executables = /usr/bin/sleep, /opt/apps
            run_as = daemon
            """);

        var settings = ConfigLoader.LoadFile(config);

        Assert.Equal("yes", settings.Raw["DOCKER:allow_privileged"]);
        Assert.Equal("/usr/bin/sleep, /opt/apps", settings.Raw.GetSection("PROCESS")["allowed_executables"]);
        Assert.Equal("daemon", settings.Raw.GetSection("PROCESS")["run_as"]);
    }

    [Fact]
    public void By_default_nothing_beyond_the_container_and_no_executable_is_allowed()
    {
        var settings = ConfigLoader.LoadDefaults("/opt/motey");

        foreach (var flag in new[] { "allow_privileged", "allow_host_network", "allow_host_pid", "allow_host_ipc" })
            Assert.Equal("false", settings.Raw[$"DOCKER:{flag}"]);
        foreach (var list in new[] { "DOCKER:allowed_capabilities", "DOCKER:allowed_devices", "DOCKER:allowed_bind_paths", "PROCESS:allowed_executables", "PROCESS:run_as" })
            Assert.Equal("", settings.Raw[list]);
    }
}
