using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Agents that join a mosquitto serving TLS alone (a certificate of a throwaway CA) and taking only the logins of a
/// password file made by mosquitto_passwd: with the CA and a login of the file they join; with a wrong password or
/// another CA their heartbeat says which broker refused what, and they join nobody.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class MqttSecurityTests : IAsyncLifetime
{
    private const string User = "motey";
    private const string Password = "fog-s3cret";

    private readonly TestScope _scope = new("motey-mqtt-tls-");
    private TestCertificates _ca = null!;
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync()
    {
        _ca = new TestCertificates(_scope.Folder("pki"));
        var ip = AgentProcess.NextAddress();
        var passwords = Path.Combine(_scope.Root, "mosquitto.passwd");
        await MosquittoBroker.PasswdAsync("-b", "-c", passwords, User, Password);
        await MosquittoBroker.PasswdAsync("-b", passwords, "other", "other-password");
        _broker = _scope.Add(new MosquittoBroker(_scope.Root, ip, Ports.Free(ip), passwords, tls: (_ca.Server("mosquitto", ip), _ca.CaFile)));
        await _broker.StartAsync();
    }

    public Task DisposeAsync() => _scope.StopAsync();

    private AgentProcess StartAgent(string name, string password = Password, string? caFile = null) =>
        _scope.Add(AgentProcess.Start(_scope.Folder(name), settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = _broker.Ip,
            ["MQTT:port"] = _broker.Port.ToString(),
            ["MQTT:tls"] = "true",
            ["MQTT:ca_file"] = caFile ?? _ca.CaFile,
            ["MQTT:username"] = User,
            ["MQTT:password"] = password,
        }));

    private static async Task<List<string>> MembersAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal).ToList();

    private static Task WaitForMembersAsync(AgentProcess observer, params AgentProcess[] members)
    {
        var expected = members.Select(m => m.Address).Order(StringComparer.Ordinal).ToList();
        return Wait.ForAsync(() => MembersAsync(observer), seen => seen.SequenceEqual(expected), $"{observer.Address} lists [{string.Join(", ", expected)}]",
            seen => $"it lists [{string.Join(", ", seen)}]\n{observer.Output}", TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits for a 400 heartbeat and returns its problem detail.</summary>
    private static async Task<string> WaitUnhealthyAsync(AgentProcess agent) =>
        (await Wait.ForAsync(async () =>
        {
            try
            {
                using var response = await agent.Client.GetAsync("/v1/heartbeat");
                if (response.StatusCode != HttpStatusCode.BadRequest) return ((int)response.StatusCode, "");
                return (400, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!);
            }
            catch (HttpRequestException)
            {
                return (0, "not listening yet");
            }
        }, h => h.Item1 == 400, $"{agent.Address} answers its heartbeat with 400", h => $"it answers {h.Item1}\n{agent.Output}", TimeSpan.FromSeconds(60))).Item2;

    [Fact]
    public async Task Agents_with_the_brokers_CA_and_a_login_of_its_password_file_join_over_TLS()
    {
        var a = StartAgent("a");
        var b = StartAgent("b");

        await Task.WhenAll(a.WaitHealthyAsync(), b.WaitHealthyAsync());
        await WaitForMembersAsync(a, a, b);
        await WaitForMembersAsync(b, a, b);
        Assert.Equal("Healthy", await a.Client.GetStringAsync("/healthz"));
        Assert.Contains($"Joined the cluster through the MQTT broker at {_broker.Ip}:{_broker.Port} as {a.Address} over TLS", a.Output);
        Assert.DoesNotContain(Password, a.Output);
    }

    [Fact]
    public async Task An_agent_with_a_wrong_password_answers_400_naming_the_refused_login_and_joins_nobody()
    {
        var good = StartAgent("good");
        await good.WaitHealthyAsync();
        await WaitForMembersAsync(good, good);

        var bad = StartAgent("bad", password: "not-the-fog-s3cret");
        var detail = await WaitUnhealthyAsync(bad);

        Assert.StartsWith($"membership: the MQTT broker at {_broker.Ip}:{_broker.Port} refused the connection: ", detail, StringComparison.Ordinal);
        Assert.EndsWith($" for the login of user '{User}'", detail, StringComparison.Ordinal);
        await Wait.UntilAsync(() => bad.Output.Contains("check [MQTT] username and password", StringComparison.Ordinal), "the refusal is logged",
            detail: () => bad.Output);
        Assert.Single(bad.Output.Split('\n'), line => line.Contains("check [MQTT] username and password", StringComparison.Ordinal));
        Assert.DoesNotContain("not-the-fog-s3cret", bad.Output);
        Assert.Equal([bad.Address], await MembersAsync(bad));
        Assert.Equal([good.Address], await MembersAsync(good));
    }

    [Fact]
    public async Task An_agent_that_trusts_another_CA_answers_400_naming_the_TLS_failure()
    {
        var otherCa = new TestCertificates(_scope.Folder("other-pki"), "Another CA");
        var agent = StartAgent("a", caFile: otherCa.CaFile);

        var detail = await WaitUnhealthyAsync(agent);

        Assert.StartsWith($"membership: TLS handshake with the MQTT broker at {_broker.Ip}:{_broker.Port} failed: its certificate is not signed by a CA of "
            + $"[MQTT] ca_file {otherCa.CaFile}", detail, StringComparison.Ordinal);
        await Wait.UntilAsync(() => agent.Output.Contains("check [MQTT] ca_file and the broker's certificate", StringComparison.Ordinal),
            "the TLS failure is logged", detail: () => agent.Output);
        Assert.Equal([agent.Address], await MembersAsync(agent));
    }
}
