using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests;

/// <summary>Three agents as real processes forming one cluster, through the embedded broker or mosquitto.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class ClusterTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-cluster-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    private sealed record Cluster(AgentProcess A, AgentProcess B, AgentProcess C, MosquittoBroker? Mosquitto);

    /// <summary>embedded: node A hosts the broker, B and C use it; mosquitto: all three use a mosquitto of the test's own.</summary>
    private async Task<Cluster> StartClusterAsync(string broker)
    {
        var addresses = Enumerable.Range(0, 3).Select(_ => AgentProcess.NextAddress()).ToArray();
        MosquittoBroker? mosquitto = null;
        string brokerIp;
        if (broker == "mosquitto")
        {
            mosquitto = new MosquittoBroker(_scope.Root, AgentProcess.NextAddress());
            await mosquitto.StartAsync();
            _scope.Add(mosquitto);
            brokerIp = mosquitto.Ip;
        }
        else
        {
            brokerIp = addresses[0];
        }
        var agents = addresses.Select((address, i) =>
        {
            var folder = _scope.Folder($"node{i}");
            var hostsBroker = broker == "embedded" && i == 0;
            var agent = AgentProcess.Start(folder, address, new Dictionary<string, string>
            {
                ["MQTT:broker"] = hostsBroker ? "embedded" : "external",
                ["MQTT:ip"] = brokerIp,
                ["MQTT:reconnect_max"] = "1",
                ["PROCESS:allowed_executables"] = "/bin/sleep, /usr/bin/sleep",
            });
            _scope.Add(agent);
            return agent;
        }).ToArray();
        foreach (var agent in agents) await agent.WaitHealthyAsync();
        var cluster = new Cluster(agents[0], agents[1], agents[2], mosquitto);
        await WaitForMembersAsync([cluster.A, cluster.B, cluster.C], [cluster.A, cluster.B, cluster.C]);
        return cluster;
    }

    private static async Task<HashSet<string>> NodesAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToHashSet();

    /// <summary>Waits until every observer lists exactly <paramref name="members"/>.</summary>
    private static async Task WaitForMembersAsync(AgentProcess[] observers, AgentProcess[] members, int seconds = 20)
    {
        var expected = members.Select(m => m.Address).ToHashSet();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        foreach (var observer in observers)
        {
            while (true)
            {
                var seen = await NodesAsync(observer);
                if (seen.SetEquals(expected)) break;
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"{observer.Address} lists [{string.Join(", ", seen.Order())}], expected [{string.Join(", ", expected.Order())}]\n{observer.Output}");
                await Task.Delay(100);
            }
        }
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("mosquitto")]
    [Trait(Categories.Name, Categories.Broker)]  // for its mosquitto case: a trait marks the whole theory
    public async Task Membership_converges_and_follows_clean_stops_and_kills(string broker)
    {
        var (a, b, c, _) = await StartClusterAsync(broker);

        c.Terminate();
        await c.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await WaitForMembersAsync([a, b], [a, b]);

        // SIGKILL: no goodbye. The broker sends the node's last will (keepalive is 2 s here: bound 3 s).
        b.Kill();
        await WaitForMembersAsync([a], [a], seconds: 10);

        await using var back = c.Restart();
        await back.WaitHealthyAsync();
        await WaitForMembersAsync([a, back], [a, back]);
    }

    [Fact]
    [Trait(Categories.Name, Categories.Broker)]
    public async Task Every_node_rejoins_after_mosquitto_restarts()
    {
        var (a, b, c, mosquitto) = await StartClusterAsync("mosquitto");
        await mosquitto!.KillAsync();
        var restarted = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.NoContent, (await a.Client.GetAsync("/v1/heartbeat")).StatusCode);  // degraded, not unhealthy
        await mosquitto.StartAsync();
        await WaitForReannouncedAsync([a, b, c], restarted);
        await WaitForMembersAsync([a, b, c], [a, b, c]);
    }

    [Fact]
    public async Task Every_node_rejoins_after_the_node_hosting_the_embedded_broker_restarts()
    {
        var (a, b, c, _) = await StartClusterAsync("embedded");
        a.Terminate();
        await a.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var restarted = DateTimeOffset.UtcNow;
        await using var back = a.Restart();
        await back.WaitHealthyAsync();
        await WaitForReannouncedAsync([back, b, c], restarted);
        await WaitForMembersAsync([back, b, c], [back, b, c]);
    }

    /// <summary>
    /// Waits until every node has heard every other node announce itself after <paramref name="since"/>: proof
    /// that each one reconnected to the broker and asked for the others (membership alone would not show it,
    /// since a node keeps its peers while it resynchronises).
    /// </summary>
    private static async Task WaitForReannouncedAsync(AgentProcess[] agents, DateTimeOffset since)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var observer in agents)
        {
            while (true)
            {
                var nodes = (await observer.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!;
                var fresh = nodes.Where(n => !n.GetProperty("self").GetBoolean() && n.GetProperty("last_seen").GetDateTimeOffset() > since)
                    .Select(n => n.GetProperty("ip").GetString()).ToHashSet();
                if (agents.Where(x => x != observer).All(x => fresh.Contains(x.Address))) break;
                if (DateTime.UtcNow > deadline) Assert.Fail($"{observer.Address} did not hear every node again after the broker restart\n{observer.Output}");
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    [Trait(Categories.Name, Categories.Broker)]
    public async Task An_image_only_node_c_can_run_is_placed_on_c_and_terminated_there_through_node_a()
    {
        var (a, _, c, _) = await StartClusterAsync("mosquitto");

        // The capability reaches C as a ZeroMQ capability event, sent by the motey command.
        await using (var cli = AgentProcess.StartRaw(c.Folder, c.Address, c.Port, "capability", "add", "lab", "--type", "hardware", "--config", Path.Combine(c.Folder, "config.ini")))
            Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(await c.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!.Contains(new Capability("lab", "hardware")))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"the capability event did not reach {c.Address}\n{c.Output}");
            await Task.Delay(100);
        }

        var response = await a.Client.PostAsync("/v1/service",
            YamlBody.Of("service_name: remote\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [300]}\n  capabilities: [lab]\n"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<Service>())!.Id;

        var running = await a.WaitForServiceAsync(id, ServiceState.Running);
        var image = running.Images.Single();
        Assert.Equal(c.Address, image.Node);
        var pid = int.Parse(image.Id.Split('-')[0]);
        Assert.True(Directory.Exists($"/proc/{pid}"), "the process runs (on node C)");
        // Node C's process VAL runs its instances in its own data folder.
        Assert.StartsWith(c.Folder, new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(false)!.FullName);

        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{id}")).StatusCode);
        await a.WaitForServiceAsync(id, ServiceState.Terminated);
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (ProcFsProbe.IsAlive(pid) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.False(ProcFsProbe.IsAlive(pid), "the process on node C is gone");
    }
}
