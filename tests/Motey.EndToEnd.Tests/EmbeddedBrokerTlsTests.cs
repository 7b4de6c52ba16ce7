using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Two agents as processes: one hosts the embedded broker with TLS and a password file made by mosquitto_passwd, the
/// other joins it as its external broker over TLS with its own login of that file.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class EmbeddedBrokerTlsTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-embedded-tls-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    [Fact]
    public async Task An_agent_joins_the_TLS_embedded_broker_of_another_with_its_login_and_both_list_each_other()
    {
        var ca = new TestCertificates(_scope.Folder("pki"));
        var hostAddress = AgentProcess.NextAddress();
        var port = Ports.Free(hostAddress);
        var certificate = ca.Server("broker", hostAddress);
        var passwords = Path.Combine(_scope.Root, "mqtt.passwd");
        await MosquittoBroker.PasswdAsync("-b", "-c", passwords, "host", "host-s3cret");
        await MosquittoBroker.PasswdAsync("-H", "sha512", "-b", passwords, "joiner", "joiner-s3cret");
        File.SetUnixFileMode(passwords, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var host = _scope.Add(AgentProcess.Start(_scope.Folder("host"), hostAddress, new Dictionary<string, string>
        {
            ["MQTT:port"] = port.ToString(),
            ["MQTT:tls"] = "true",
            ["MQTT:ca_file"] = ca.CaFile,
            ["MQTT:tls_certificate"] = certificate.Certificate,
            ["MQTT:tls_key"] = certificate.Key,
            ["MQTT:password_file"] = passwords,
            ["MQTT:username"] = "host",
            ["MQTT:password"] = "host-s3cret",
        }));
        var joiner = _scope.Add(AgentProcess.Start(_scope.Folder("joiner"), settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:brokers"] = $"{hostAddress}:{port}",
            ["MQTT:tls"] = "true",
            ["MQTT:ca_file"] = ca.CaFile,
            ["MQTT:username"] = "joiner",
            ["MQTT:password"] = "joiner-s3cret",
        }));

        await Task.WhenAll(host.WaitHealthyAsync(), joiner.WaitHealthyAsync());
        var expected = new[] { host.Address, joiner.Address }.Order(StringComparer.Ordinal).ToList();
        foreach (var observer in new[] { host, joiner })
        {
            await Wait.ForAsync(async () => (await observer.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!
                    .Select(n => n.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal).ToList(),
                seen => seen.SequenceEqual(expected), $"{observer.Address} lists both agents", seen => $"it lists [{string.Join(", ", seen)}]\n{observer.Output}",
                TimeSpan.FromSeconds(30));
        }
        Assert.Contains($"Embedded MQTT broker listening on {hostAddress}:{port} (TLS only), logins from [MQTT] password_file {passwords} (2 logins)", host.Output);
        Assert.Contains($"Joined the cluster through the MQTT broker at {hostAddress}:{port} as {joiner.Address} over TLS", joiner.Output);
    }
}
