using System.Net.NetworkInformation;
using System.Net.Sockets;
using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Configuration;

/// <summary>
/// Values of the original Motey's config.ini read with the meaning they had there: a bare socket path for capability
/// events, a database folder, a broker that is not this host's, the Docker socket with two slashes.
/// </summary>
public sealed class OriginalValuesTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private MoteySettings Load(string ini)
    {
        var config = Path.Combine(_folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        return ConfigLoader.LoadFile(config);
    }

    private ConfigException Refused(string ini)
    {
        var config = Path.Combine(_folder.Path, "config.ini");
        File.WriteAllText(config, ini);
        return Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
    }

    [Theory]
    [InlineData("/tmp/capability_engine.ipc", "ipc:///tmp/capability_engine.ipc")]
    [InlineData("ipc:///tmp/capability_engine.ipc", "ipc:///tmp/capability_engine.ipc")]
    [InlineData("/run/motey/../motey/events.ipc", "ipc:///run/motey/events.ipc")]
    [InlineData("tcp://127.0.0.1:5090", "tcp://127.0.0.1:5090")]
    public void A_bare_socket_path_for_capability_events_is_an_ipc_endpoint(string value, string endpoint)
    {
        var settings = Load($"[ZEROMQ]\ncapability_engine_ipc_path = {value}\n");

        Assert.Equal(endpoint, settings.ZeroMq.CapabilityEngineEndpoint);
    }

    [Theory]
    [InlineData("capability_engine.ipc")]
    [InlineData("ipc://capability_engine.ipc")]
    public void A_relative_socket_path_resolves_against_the_config_files_folder(string value)
    {
        var settings = Load($"[ZEROMQ]\ncapability_engine_ipc_path = {value}\n");

        Assert.Equal($"ipc://{_folder.Path}/capability_engine.ipc", settings.ZeroMq.CapabilityEngineEndpoint);
    }

    [Fact]
    public void An_ipc_endpoint_is_taken_for_this_hosts_publishers_alone_in_secure_mode()
    {
        // A Unix socket is reached from this host only: no cluster key, no capability_publishers = any needed.
        var settings = Load("[ZEROMQ]\ncapability_engine_ipc_path = /tmp/capability_engine.ipc\ncapability_publishers = local\n");

        Assert.Equal(SecurityMode.Secure, settings.Security.Mode);
        Assert.False(settings.ZeroMq.RemotePublishers);
    }

    [Theory]
    [InlineData("5090", "for a port write tcp://127.0.0.1:5090")]
    [InlineData("127.0.0.1:5090", "for a TCP endpoint write tcp://127.0.0.1:5090")]
    [InlineData("localhost:5090", "for a TCP endpoint write tcp://localhost:5090")]
    [InlineData("ipc://@motey", "an abstract socket (@name) has no file")]
    [InlineData("inproc://events", "a ZeroMQ endpoint such as tcp://127.0.0.1:5090, or a Unix socket path such as /tmp/capability_engine.ipc")]
    [InlineData("ipc://", "a ZeroMQ endpoint such as tcp://127.0.0.1:5090")]
    public void A_value_that_is_no_endpoint_nor_socket_path_is_refused_at_its_line(string value, string expected)
    {
        var error = Refused($"; events\n[ZEROMQ]\ncapability_engine_ipc_path = {value}\n");

        Assert.StartsWith($"{_folder.Path}/config.ini:3: [ZEROMQ] capability_engine_ipc_path = '{value}' is invalid: expected ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_socket_path_longer_than_a_unix_socket_may_have_is_refused_with_its_length()
    {
        var path = "/tmp/" + new string('s', 103);  // 108 bytes: one more than sun_path holds with its NUL

        var error = Refused($"[ZEROMQ]\ncapability_engine_ipc_path = {path}\n");

        Assert.Contains($"expected a Unix socket path of at most 107 bytes ({path} has 108): choose a shorter one", error.Message);
    }

    [Fact]
    public void A_database_path_naming_an_existing_folder_means_motey_db_inside_it()
    {
        var databases = Directory.CreateDirectory(Path.Combine(_folder.Path, "motey", "databases")).FullName;
        File.WriteAllText(Path.Combine(databases, "capabilities.json"), "{\"_default\": {}}");  // a TinyDB file of the original

        var settings = Load($"[DATABASE]\npath = {databases}\n");

        Assert.Equal(Path.Combine(databases, "motey.db"), settings.Database.Path);
    }

    [Fact]
    public void A_database_path_ending_in_a_slash_is_a_folder_and_the_agent_creates_it()
    {
        var settings = Load("[DATABASE]\npath = state/databases/\n");
        Assert.Equal(Path.Combine(_folder.Path, "state", "databases", "motey.db"), settings.Database.Path);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "state")), "reading config.ini creates nothing");

        using var database = new Motey.Host.Storage.Database(settings.Database.Path);
        database.Initialize();

        Assert.True(File.Exists(Path.Combine(_folder.Path, "state", "databases", "motey.db")));
    }

    [Fact]
    public void A_missing_database_path_without_an_extension_is_a_folder_as_on_a_machine_where_the_original_never_ran()
    {
        var settings = Load("[DATABASE]\npath = /opt/Motey/motey/databases\n");
        Assert.Equal("/opt/Motey/motey/databases/motey.db", settings.Database.Path);
    }

    [Fact]
    public void A_database_path_that_is_a_file_or_has_an_extension_names_the_file()
    {
        Assert.Equal(Path.Combine(_folder.Path, "data", "node.db"), Load("[DATABASE]\npath = data/node.db\n").Database.Path);
        File.WriteAllText(Path.Combine(_folder.Path, "existing"), "");
        Assert.Equal(Path.Combine(_folder.Path, "existing"), Load("[DATABASE]\npath = existing\n").Database.Path);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.9.9")]
    [InlineData("::1")]
    public void Without_a_broker_key_a_loopback_broker_address_is_this_nodes_embedded_broker(string ip)
    {
        var settings = Load($"[MQTT]\nip = {ip}\n");

        Assert.True(settings.Mqtt.Embedded);
        Assert.True(settings.Mqtt.BrokerImplied);
    }

    [Fact]
    public void Without_a_broker_key_an_address_of_this_hosts_interfaces_is_this_nodes_embedded_broker()
    {
        var own = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(address));
        Assert.True(own is not null, "this test needs a host with an IPv4 address beyond loopback");

        // Beyond loopback, the embedded broker needs TLS and logins in secure mode: open mode keeps this test about the choice.
        var settings = Load($"[MQTT]\nip = {own}\n[SECURITY]\nmode = open\n");

        Assert.True(settings.Mqtt.Embedded);
    }

    [Fact]
    public void Without_a_broker_key_an_address_that_is_not_this_hosts_is_an_external_broker()
    {
        // 203.0.113.0/24 is TEST-NET-3: documentation only, no host has it.
        var settings = Load("[MQTT]\nip = 203.0.113.7\n[SECURITY]\nmode = open\n");

        Assert.False(settings.Mqtt.Embedded);
        Assert.Equal("203.0.113.7:1883", Assert.Single(settings.Mqtt.Brokers).ToString());
    }

    [Fact]
    public void An_explicit_broker_key_wins_over_the_address()
    {
        Assert.False(Load("[MQTT]\nbroker = external\nip = 127.0.0.1\n").Mqtt.Embedded);
        var embedded = Load("[MQTT]\nbroker = embedded\nip = 203.0.113.7\n[SECURITY]\nmode = open\n").Mqtt;
        Assert.True(embedded.Embedded);
        Assert.False(embedded.BrokerImplied);
    }

    [Fact]
    public void A_refusal_about_the_broker_says_why_it_was_taken_to_be_external()
    {
        var error = Refused("[MQTT]\nip = 203.0.113.7\npassword_file = passwd\n[SECURITY]\nmode = open\n");

        Assert.Contains("[MQTT] password_file: only the embedded broker (broker = embedded) reads a password file; an external broker has its own "
            + "([MQTT] broker is not set and ip = 203.0.113.7 is not this host's, so the broker there is used: set broker = embedded to host it here)",
            error.Message);
    }

    [Theory]
    [InlineData("unix://var/run/docker.sock")]
    [InlineData("unix:///var/run/docker.sock")]
    public void The_docker_socket_with_two_slashes_is_accepted_as_docker_py_read_it(string url)
    {
        var settings = Load($"[DOCKER]\nurl = {url}\n");

        Assert.Equal(url, settings.Raw["DOCKER:url"]);
    }
}
