using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// The node that hosts the broker killed with SIGKILL, as a user found it: its peers shared that broker, so nobody can
/// send its last will. The survivors check each other over ZeroMQ, drop it within the documented bound and go on; with
/// a second broker in [MQTT] brokers they meet there. And the README's recipe without a single point of failure: two
/// mosquittos bridged on motey/v1/#, every node listing both.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class BrokerNodeKillTests : IAsyncLifetime
{
    /// <summary>
    /// README: a peer that died with the broker is dropped within 2 × max(2 s, request_timeout) + request_timeout of the
    /// broker's loss; request_timeout is 2 s here (AgentProcess), so 6 s.
    /// </summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(6);

    /// <summary>What a loaded two-core machine may add to the bound: polling, start-up of the timers, the thread pool.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    private readonly TestScope _scope = new("motey-brokerkill-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    private AgentProcess Start(string name, string address, Dictionary<string, string> mqtt)
    {
        mqtt["MQTT:reconnect_max"] = "1";
        var agent = AgentProcess.Start(_scope.Folder(name), address, mqtt);
        _scope.Add(agent);
        return agent;
    }

    private static async Task<List<string>> MembersAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal).ToList();

    /// <summary>Waits until every observer lists exactly <paramref name="members"/>, all within one deadline.</summary>
    private static async Task WaitForMembersAsync(AgentProcess[] observers, AgentProcess[] members, TimeSpan within)
    {
        var expected = members.Select(m => m.Address).Order(StringComparer.Ordinal).ToList();
        var deadline = DateTime.UtcNow + within;
        foreach (var observer in observers)
        {
            List<string> seen;
            while (!(seen = await MembersAsync(observer)).SequenceEqual(expected))
            {
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"{observer.Address} lists [{string.Join(", ", seen)}], expected [{string.Join(", ", expected)}]\n{Faults.Tail(observer)}");
                await Task.Delay(100);
            }
        }
    }

    private static async Task<string> HealthAsync(AgentProcess agent)
    {
        using var response = await agent.Client.GetAsync("/healthz");
        return await response.Content.ReadAsStringAsync();
    }

    private static string Brokers(params string[] hosts) => string.Join(", ", hosts.Select(h => $"{h}:1883"));

    [Fact]
    public async Task Killing_the_node_that_hosts_the_only_broker_drops_it_from_the_others_within_the_bound_and_they_keep_each_other()
    {
        var (a, b, c) = (AgentProcess.NextAddress(), AgentProcess.NextAddress(), AgentProcess.NextAddress());
        var host = Start("a", a, new() { ["MQTT:broker"] = "embedded" });
        var first = Start("b", b, new() { ["MQTT:broker"] = "external", ["MQTT:ip"] = a });
        var second = Start("c", c, new() { ["MQTT:broker"] = "external", ["MQTT:ip"] = a });
        foreach (var agent in new[] { host, first, second }) await agent.WaitHealthyAsync();
        await WaitForMembersAsync([host, first, second], [host, first, second], TimeSpan.FromSeconds(20));

        var clock = Stopwatch.StartNew();
        host.Kill();

        await WaitForMembersAsync([first, second], [first, second], Bound + Slack);
        Assert.True(clock.Elapsed < Bound + Slack, $"the survivors took {clock.Elapsed.TotalSeconds:0.0} s to drop the dead node");
        Assert.Equal(HttpStatusCode.NoContent, (await first.Client.GetAsync("/v1/heartbeat")).StatusCode);
        Assert.Equal("Degraded", await HealthAsync(first));
        // They go on: still each other's peers once the checks have had time to drop anything else.
        await Faults.HoldsForAsync(async () => (await MembersAsync(second)).SequenceEqual([b, c]) ? null : $"{c} lists [{string.Join(", ", await MembersAsync(second))}]",
            Bound);
    }

    [Fact]
    public async Task Killing_the_node_that_hosts_the_first_broker_moves_the_others_to_the_second_where_a_node_started_afterwards_joins_them()
    {
        var (a, b, c, d) = (AgentProcess.NextAddress(), AgentProcess.NextAddress(), AgentProcess.NextAddress(), AgentProcess.NextAddress());
        var brokers = Brokers(a, b);
        var host = Start("a", a, new() { ["MQTT:broker"] = "embedded", ["MQTT:brokers"] = brokers });
        var standby = Start("b", b, new() { ["MQTT:broker"] = "embedded", ["MQTT:brokers"] = brokers });
        var other = Start("c", c, new() { ["MQTT:broker"] = "external", ["MQTT:brokers"] = brokers });
        foreach (var agent in new[] { host, standby, other }) await agent.WaitHealthyAsync();
        await WaitForMembersAsync([host, standby, other], [host, standby, other], TimeSpan.FromSeconds(20));

        var clock = Stopwatch.StartNew();
        host.Kill();

        await WaitForMembersAsync([standby, other], [standby, other], Bound + Slack);
        Assert.True(clock.Elapsed < Bound + Slack, $"the survivors took {clock.Elapsed.TotalSeconds:0.0} s to drop the dead node");
        await Faults.WaitUntilAsync(async () => await HealthAsync(standby) == "Healthy" && await HealthAsync(other) == "Healthy",
            "both survivors are connected to the second broker", agent: other);

        var late = Start("d", d, new() { ["MQTT:broker"] = "external", ["MQTT:brokers"] = brokers });
        await late.WaitHealthyAsync();
        await WaitForMembersAsync([standby, other, late], [standby, other, late], TimeSpan.FromSeconds(20));
    }

    [Fact]
    [Trait(Categories.Name, Categories.Broker)]
    public async Task Nodes_on_two_bridged_mosquittos_see_each_other_and_move_to_the_other_one_when_theirs_dies()
    {
        var (ip1, ip2) = (AgentProcess.NextAddress(), AgentProcess.NextAddress());
        var one = _scope.Add(new MosquittoBroker(_scope.Root, ip1));
        // The README's bridge: everything on motey/v1/# both ways, QoS 0; restart_timeout 1 reconnects the bridge quickly.
        var two = _scope.Add(new MosquittoBroker(_scope.Root, ip2, extraConfig:
            $"connection motey-bridge\naddress {ip1}:1883\ntopic motey/v1/# both 0\nrestart_timeout 1\ncleansession true\n"));
        await one.StartAsync();
        await two.StartAsync();
        // Announcements are QoS 0 and made once: a node that joins while the bridge is not up is not heard across it.
        // No agent runs yet: the only connection to the first mosquitto is the bridge.
        await Faults.WaitUntilAsync(() => Task.FromResult(Established(ip1, 1883)), "the bridge from the second mosquitto to the first is connected");
        var (a, b) = (AgentProcess.NextAddress(), AgentProcess.NextAddress());
        // A prefers the first mosquitto, B the second: they only meet through the bridge.
        var onOne = Start("a", a, new() { ["MQTT:broker"] = "external", ["MQTT:brokers"] = Brokers(ip1, ip2) });
        var onTwo = Start("b", b, new() { ["MQTT:broker"] = "external", ["MQTT:brokers"] = Brokers(ip2, ip1) });
        foreach (var agent in new[] { onOne, onTwo }) await agent.WaitHealthyAsync();
        await WaitForMembersAsync([onOne, onTwo], [onOne, onTwo], TimeSpan.FromSeconds(30));

        await one.KillAsync();

        await Faults.WaitUntilAsync(async () => await HealthAsync(onOne) == "Healthy", "A has moved to the second mosquitto", agent: onOne);
        var late = Start("c", AgentProcess.NextAddress(), new() { ["MQTT:broker"] = "external", ["MQTT:brokers"] = Brokers(ip1, ip2) });
        await late.WaitHealthyAsync();
        await WaitForMembersAsync([onOne, onTwo, late], [onOne, onTwo, late], TimeSpan.FromSeconds(20));
    }

    /// <summary>Whether a TCP connection to <paramref name="to"/>:<paramref name="port"/> is established (/proc/net/tcp).</summary>
    private static bool Established(string to, int port)
    {
        static string Hex(string ip) => string.Concat(IPAddress.Parse(ip).GetAddressBytes().Reverse().Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        var remote = $"{Hex(to)}:{port:X4}";
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(f => f[2] == remote && f[3] == "01");
    }
}
