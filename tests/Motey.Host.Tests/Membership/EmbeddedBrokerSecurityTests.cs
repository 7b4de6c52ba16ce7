using System.Net;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MQTTnet;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// The embedded broker with a password file (lines made by mosquitto_passwd) and TLS, and nodes that join it: in-process
/// agents on their own loopback addresses, real sockets, real TLS with certificates of a throwaway CA.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class EmbeddedBrokerSecurityTests : IAsyncLifetime
{
    // From MosquittoPasswordFileTests: alice / "correct horse" ($7$), bob / "hunter2" ($6$).
    private const string Alice = "alice:$7$101$OUeI0GxDTljaaTmB$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==";
    private const string Bob = "bob:$6$x52WIu8HSRwxD/V9$o+dxVQ+eVje4IcMXZ+a7Dg6qb4ak4MYAgWEKEiM+q2tOZI8CkMWEyLa93aGK/mfGYNYbT2X5I3j87cwXy21d2Q==";

    private readonly TestFolder _brokerFolder = new();
    private readonly TestFolder _joinerFolder = new();
    private readonly List<TestNode> _nodes = [];
    private readonly TestCertificates _ca;
    private readonly string _passwordFile;

    public EmbeddedBrokerSecurityTests()
    {
        _ca = new TestCertificates(Path.Combine(_brokerFolder.Path, "pki"));
        _passwordFile = Path.Combine(_brokerFolder.Path, "mqtt.passwd");
        WritePasswordFile("# the fog's logins", Alice, Bob);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _nodes.Count - 1; i >= 0; i--) await _nodes[i].DisposeAsync();
        _brokerFolder.Dispose();
        _joinerFolder.Dispose();
    }

    private string BrokerAddress => _brokerFolder.Address;

    private void WritePasswordFile(params string[] lines)
    {
        File.WriteAllLines(_passwordFile, lines);
        File.SetUnixFileMode(_passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The broker node: its embedded broker serves TLS with a certificate for its address and takes the file's logins; it joins as alice.</summary>
    private Dictionary<string, string> SecuredBroker(PemPair? certificate = null)
    {
        certificate ??= _ca.Server("broker", BrokerAddress);
        return new()
        {
            ["MQTT:tls"] = "true",
            ["MQTT:ca_file"] = _ca.CaFile,
            ["MQTT:tls_certificate"] = certificate.Certificate,
            ["MQTT:tls_key"] = certificate.Key,
            ["MQTT:password_file"] = _passwordFile,
            ["MQTT:username"] = "alice",
            ["MQTT:password"] = "correct horse",
        };
    }

    /// <summary>A node that joins the broker node's broker as an external one, over TLS trusting <paramref name="caFile"/>.</summary>
    private Dictionary<string, string> Joiner(string user, string password, string caFile) => new()
    {
        ["MQTT:broker"] = "external",
        ["MQTT:brokers"] = $"{BrokerAddress}:1883",
        ["MQTT:tls"] = "true",
        ["MQTT:ca_file"] = caFile,
        ["MQTT:username"] = user,
        ["MQTT:password"] = password,
    };

    private async Task<TestNode> StartAsync(TestFolder folder, Dictionary<string, string> settings)
    {
        var node = await TestNode.StartAsync(folder, [TestNode.Simulated], settings);
        _nodes.Add(node);
        return node;
    }

    private static async Task<List<string>> MembersAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal).ToList();

    private static Task WaitForMembersAsync(TestNode observer, params TestNode[] members)
    {
        var expected = members.Select(m => m.Address).Order(StringComparer.Ordinal).ToList();
        return Wait.ForAsync(() => MembersAsync(observer), seen => seen.SequenceEqual(expected), $"{observer.Address} lists [{string.Join(", ", expected)}]",
            seen => $"it lists [{string.Join(", ", seen)}]");
    }

    private static Task WaitHealthyAsync(TestNode node) =>
        Wait.ForAsync(() => HeartbeatAsync(node), h => h.Status == HttpStatusCode.NoContent, $"{node.Address} answers its heartbeat with 204",
            h => $"it answers {(int)h.Status}: {h.Detail}");

    /// <summary>Waits for a 400 heartbeat and returns its problem detail.</summary>
    private static async Task<string> WaitUnhealthyAsync(TestNode node) =>
        (await Wait.ForAsync(() => HeartbeatAsync(node), h => h.Status == HttpStatusCode.BadRequest, $"{node.Address} answers its heartbeat with 400",
            h => $"it answers {(int)h.Status}")).Detail;

    private static async Task<(HttpStatusCode Status, string Detail)> HeartbeatAsync(TestNode node)
    {
        using var response = await node.Client.GetAsync("/v1/heartbeat");
        if (response.StatusCode == HttpStatusCode.NoContent) return (response.StatusCode, "");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, problem.GetProperty("detail").GetString()!);
    }

    /// <summary>
    /// Waits until the agent's log file holds <paramref name="text"/>: the file is written by the agent's logger on its
    /// own schedule (a line may be read half-written), so a look right after the event can come too early.
    /// </summary>
    private static Task LoggedAsync(TestFolder folder, string text) =>
        Wait.UntilAsync(() => Log(folder).Contains(text, StringComparison.Ordinal), $"the log says: {text}");

    private static string Log(TestFolder folder)
    {
        using var stream = new FileStream(Path.Combine(folder.Path, "logs", "motey.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>A raw MQTT client's connect to the broker node's broker, over TLS trusting the test CA unless <paramref name="tls"/> is false.</summary>
    private async Task<MqttClientConnectResultCode> ConnectAsync(string clientId, string? user, string? password, bool tls = true)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer(BrokerAddress, 1883).WithClientId(clientId).WithTimeout(TimeSpan.FromSeconds(10));
        if (user is not null) options = options.WithCredentials(user, password);
        if (tls)
        {
            options = options.WithTlsOptions(o => o.WithTargetHost(BrokerAddress).WithTrustChain([_ca.Ca])
                .WithRevocationMode(X509RevocationMode.NoCheck));
        }
        var result = await client.ConnectAsync(options.Build());
        if (result.ResultCode == MqttClientConnectResultCode.Success) await client.DisconnectAsync();
        return result.ResultCode;
    }

    [Fact]
    public async Task A_node_joins_its_own_TLS_broker_with_its_login_from_the_password_file()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker());

        await WaitHealthyAsync(broker);
        await WaitForMembersAsync(broker, broker);
        await LoggedAsync(_brokerFolder, $"Embedded MQTT broker listening on {BrokerAddress}:1883 (TLS only), logins from [MQTT] password_file {_passwordFile} (2 logins)");
        await LoggedAsync(_brokerFolder, "over TLS");
    }

    [Fact]
    public async Task The_embedded_broker_refuses_a_wrong_password_and_a_missing_login_and_logs_who_without_the_password()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker());
        await WaitHealthyAsync(broker);

        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync("intruder-1", "alice", "Correct horse"));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync("intruder-2", null, null));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync("intruder-3", "mallory", "hunter2"));
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectAsync("bob-1", "bob", "hunter2"));

        await LoggedAsync(_brokerFolder, "Refused the MQTT login of client intruder-1 as user alice from ");
        await LoggedAsync(_brokerFolder, "Refused the MQTT login of client intruder-2 as user (none) from ");
        await LoggedAsync(_brokerFolder, "Refused the MQTT login of client intruder-3 as user mallory from ");
        var log = Log(_brokerFolder);
        Assert.DoesNotContain("bob-1", log);
        Assert.DoesNotContain("Correct horse", log);
        Assert.DoesNotContain("hunter2", log);
    }

    [Fact]
    public async Task The_TLS_broker_has_no_plain_endpoint_and_a_TLS_client_that_trusts_the_CA_connects()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker());
        await WaitHealthyAsync(broker);

        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync("plain", "bob", "hunter2", tls: false));
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectAsync("tls", "bob", "hunter2"));
    }

    [Fact]
    public async Task A_plain_broker_with_a_password_file_refuses_a_client_without_login()
    {
        var settings = SecuredBroker();
        foreach (var key in new[] { "MQTT:tls", "MQTT:ca_file", "MQTT:tls_certificate", "MQTT:tls_key" }) settings.Remove(key);
        var broker = await StartAsync(_brokerFolder, settings);
        await WaitHealthyAsync(broker);

        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync("anonymous", null, null, tls: false));
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectAsync("bob", "bob", "hunter2", tls: false));
    }

    [Fact]
    public async Task A_node_joins_the_TLS_broker_of_another_with_its_own_login_and_both_list_each_other()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker());
        var joiner = await StartAsync(_joinerFolder, Joiner("bob", "hunter2", _ca.CaFile));

        await WaitHealthyAsync(joiner);
        await WaitForMembersAsync(broker, broker, joiner);
        await WaitForMembersAsync(joiner, broker, joiner);
    }

    [Fact]
    public async Task A_node_whose_login_is_refused_says_so_in_its_heartbeat_and_logs_it_once_without_the_password()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker());
        var joiner = await StartAsync(_joinerFolder, Joiner("bob", "not-hunter2", _ca.CaFile));

        var detail = await WaitUnhealthyAsync(joiner);

        Assert.Equal($"membership: the MQTT broker at {BrokerAddress}:1883 refused the connection: BadUserNameOrPassword for the login of user 'bob'", detail);
        await Wait.UntilAsync(() => Log(_joinerFolder).Contains("check [MQTT] username and password", StringComparison.Ordinal), "the refusal is logged");
        Assert.Single(Log(_joinerFolder).Split('\n'), line => line.Contains("check [MQTT] username and password", StringComparison.Ordinal));
        Assert.DoesNotContain("not-hunter2", Log(_joinerFolder));
        Assert.DoesNotContain("not-hunter2", Log(_brokerFolder));
        Assert.Equal([broker.Address], await MembersAsync(broker));
    }

    [Fact]
    public async Task A_node_that_does_not_trust_the_CA_of_the_brokers_certificate_names_the_TLS_failure()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker());
        var otherCa = new TestCertificates(Path.Combine(_joinerFolder.Path, "other-pki"), "Another CA");
        var joiner = await StartAsync(_joinerFolder, Joiner("bob", "hunter2", otherCa.CaFile));

        var detail = await WaitUnhealthyAsync(joiner);

        Assert.StartsWith($"membership: TLS handshake with the MQTT broker at {BrokerAddress}:1883 failed: its certificate is not signed by a CA of "
            + $"[MQTT] ca_file {otherCa.CaFile}", detail, StringComparison.Ordinal);
        await Wait.UntilAsync(() => Log(_joinerFolder).Contains("check [MQTT] ca_file and the broker's certificate", StringComparison.Ordinal),
            "the TLS failure is logged");
        Assert.Equal([broker.Address], await MembersAsync(broker));
    }

    [Fact]
    public async Task A_broker_certificate_for_another_address_is_a_TLS_failure_naming_the_address_and_the_certificates_names()
    {
        var broker = await StartAsync(_brokerFolder, SecuredBroker(_ca.Server("elsewhere", "10.9.9.9", "broker.example")));

        var detail = await WaitUnhealthyAsync(broker);

        Assert.Equal($"membership: TLS handshake with the MQTT broker at {BrokerAddress}:1883 failed: its certificate is not for {BrokerAddress} "
            + "(it names broker.example, 10.9.9.9)", detail);
    }

    [Fact]
    public async Task A_node_without_TLS_before_a_broker_that_serves_TLS_alone_is_told_to_set_tls()
    {
        await StartAsync(_brokerFolder, SecuredBroker());
        var settings = Joiner("bob", "hunter2", _ca.CaFile);
        settings.Remove("MQTT:tls");
        settings.Remove("MQTT:ca_file");
        var joiner = await StartAsync(_joinerFolder, settings);

        await LoggedAsync(_joinerFolder, $"the MQTT broker at {BrokerAddress}:1883 is not reachable: ");
        await LoggedAsync(_joinerFolder, "(it closed the connection before answering the login: if it serves TLS, set [MQTT] tls = true and ca_file); retrying");
        Assert.Equal([joiner.Address], await MembersAsync(joiner));
    }

    [Fact]
    public async Task A_node_with_TLS_before_a_plain_broker_is_asked_whether_it_serves_TLS()
    {
        var settings = SecuredBroker();
        foreach (var key in new[] { "MQTT:tls", "MQTT:ca_file", "MQTT:tls_certificate", "MQTT:tls_key" }) settings.Remove(key);
        await StartAsync(_brokerFolder, settings);
        await StartAsync(_joinerFolder, Joiner("bob", "hunter2", _ca.CaFile));

        await LoggedAsync(_joinerFolder, $"the MQTT broker at {BrokerAddress}:1883 is not reachable: ");
        await LoggedAsync(_joinerFolder, "(it broke off the TLS handshake: does it serve TLS on this port, as [MQTT] tls = true wants?); retrying");
    }

    [Fact]
    public async Task A_ca_file_without_a_certificate_stops_the_start()
    {
        var settings = SecuredBroker();
        var notPem = Path.Combine(_brokerFolder.Path, "ca.txt");
        File.WriteAllText(notPem, "not a certificate\n");
        settings["MQTT:ca_file"] = notPem;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(_brokerFolder, settings));

        Assert.Equal($"[MQTT] ca_file {notPem} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", error.Message);
    }

    [Fact]
    public async Task A_broker_key_that_does_not_match_its_certificate_stops_the_start()
    {
        var certificate = _ca.Server("broker", BrokerAddress);
        var other = _ca.Server("other", BrokerAddress);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(_brokerFolder, SecuredBroker(certificate with { Key = other.Key })));

        Assert.StartsWith($"[MQTT] tls_certificate {certificate.Certificate} and tls_key {other.Key} cannot be loaded as a PEM certificate and its key: ",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_password_file_stops_the_start_naming_file_and_line()
    {
        WritePasswordFile(Alice, "bob:hunter2");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(_brokerFolder, SecuredBroker()));

        Assert.Equal($"[MQTT] password_file {_passwordFile}:2: user 'bob': the password is not hashed (hash the file with mosquitto_passwd -U)", error.Message);
    }

    [Theory]
    [InlineData("carol", "correct horse", "has no login for this node's [MQTT] username 'carol'")]
    [InlineData("alice", "hunter2", "has user 'alice' with another password than this node's [MQTT] password")]
    public async Task A_password_file_without_the_nodes_own_login_stops_the_start(string user, string password, string what)
    {
        var settings = SecuredBroker();
        settings["MQTT:username"] = user;
        settings["MQTT:password"] = password;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(_brokerFolder, settings));

        Assert.StartsWith($"[MQTT] password_file {_passwordFile} {what}, so it could not join its own broker", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(password, error.Message, StringComparison.Ordinal);
    }
}
