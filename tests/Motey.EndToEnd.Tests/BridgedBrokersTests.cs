using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MQTTnet;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Beyond one broker: two mosquittos bridged to each other (mosquitto's own bridge, `topic motey/# both 0`), agents as
/// real processes split across them. Membership, placement and last wills cross the bridge; a node whose broker dies
/// goes on through the next broker of its [MQTT] brokers list and the cluster stays one.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class BridgedBrokersTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-bridge-");
    private MosquittoBroker _first = null!;
    private MosquittoBroker _second = null!;

    public async Task InitializeAsync()
    {
        var first = AgentProcess.NextAddress();
        var second = AgentProcess.NextAddress();
        _first = _scope.Add(new MosquittoBroker(_scope.Root, first));
        // The second broker opens the bridge to the first; every motey topic goes both ways, retained messages and
        // last wills included.
        _second = _scope.Add(new MosquittoBroker(_scope.Root, second, extraConfig: $"""
            connection bridge-to-first
            address {first}:1883
            topic motey/# both 0
            cleansession true
            restart_timeout 1
            """));
        await _first.StartAsync();
        await _second.StartAsync();
        await WaitForBridgeAsync();
    }

    public Task DisposeAsync() => _scope.StopAsync();

    /// <summary>Until a message published on the second broker reaches a subscriber of the first: the bridge is up.</summary>
    private async Task WaitForBridgeAsync()
    {
        using var subscriber = await ConnectAsync(_first, "bridge-probe-sub");
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.ApplicationMessageReceivedAsync += _ =>
        {
            arrived.TrySetResult();
            return Task.CompletedTask;
        };
        await subscriber.SubscribeAsync("motey/test/bridge-probe");
        using var publisher = await ConnectAsync(_second, "bridge-probe-pub");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!arrived.Task.IsCompleted)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"the bridge from {_second.Ip} to {_first.Ip} did not carry a message within 20 s");
            await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("motey/test/bridge-probe").WithPayload(Encoding.UTF8.GetBytes("probe")).Build());
            await Task.WhenAny(arrived.Task, Task.Delay(200));
        }
    }

    private static async Task<IMqttClient> ConnectAsync(MosquittoBroker broker, string clientId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Ip, broker.Port).WithClientId(clientId).WithCleanSession(true).Build());
        return client;
    }

    /// <summary>An agent on the brokers listed, in that order.</summary>
    private async Task<AgentProcess> StartAgentAsync(string name, params MosquittoBroker[] brokers)
    {
        var agent = _scope.Add(AgentProcess.Start(_scope.Folder(name), settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = brokers[0].Ip,
            ["MQTT:brokers"] = string.Join(", ", brokers.Select(b => $"{b.Ip}:{b.Port}")),
            ["MQTT:reconnect_max"] = "1",
            ["PROCESS:allowed_executables"] = "/bin/sleep, /usr/bin/sleep",
        }));
        await agent.WaitHealthyAsync();
        return agent;
    }

    private static async Task<HashSet<string>> NodesAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToHashSet();

    private static async Task WaitForMembersAsync(AgentProcess[] observers, AgentProcess[] members, int seconds = 30)
    {
        var expected = members.Select(m => m.Address).ToHashSet();
        foreach (var observer in observers)
        {
            await Wait.ForAsync(() => NodesAsync(observer), seen => seen.SetEquals(expected),
                $"{observer.Address} lists [{string.Join(", ", expected.Order())}]",
                seen => $"it lists [{string.Join(", ", seen.Order())}]\n{observer.Output}", TimeSpan.FromSeconds(seconds));
        }
    }

    private static async Task AddCapabilityAsync(AgentProcess agent, string name)
    {
        using var response = await agent.Client.PutAsync("/v1/capabilities",
            new StringContent($$"""[{"capability": "{{name}}", "capability_type": "hardware"}]""", Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"PUT /v1/capabilities on {agent.Address}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Posts a sleep needing <paramref name="capability"/> to <paramref name="via"/>; returns the service once RUNNING.</summary>
    private static async Task<Service> DeployAsync(AgentProcess via, string name, string capability)
    {
        var response = await via.Client.PostAsync("/v1/service",
            YamlBody.Of($"service_name: {name}\nimages:\n- name: sleep\n  engine: process\n  parameters: {{args: [300]}}\n  capabilities: [{capability}]\n"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<Service>())!.Id;
        return await via.WaitForServiceAsync(id, ServiceState.Running);
    }

    /// <summary>Deletes the service through <paramref name="via"/> and checks its process is gone from the process table.</summary>
    private static async Task DeleteAsync(AgentProcess via, Service service)
    {
        var pid = int.Parse(service.Images.Single().Id.Split('-')[0]);
        Assert.Equal(HttpStatusCode.Accepted, (await via.Client.DeleteAsync($"/v1/service/{service.Id}")).StatusCode);
        await via.WaitForServiceAsync(service.Id, ServiceState.Terminated);
        await Wait.UntilAsync(() => !ProcFsProbe.IsAlive(pid), $"process {pid} of service {service.Id} is gone");
    }

    /// <summary>Checks that the image runs as a process in <paramref name="node"/>'s own folder: the operating system, not the agents, says where.</summary>
    private static void AssertRunsOn(Service service, AgentProcess node)
    {
        var image = service.Images.Single();
        Assert.Equal(node.Address, image.Node);
        var pid = int.Parse(image.Id.Split('-')[0]);
        Assert.True(ProcFsProbe.IsAlive(pid), $"process {pid} runs");
        Assert.StartsWith(node.Folder, new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(false)!.FullName);
    }

    [Fact]
    public async Task Three_nodes_on_two_bridged_mosquittos_form_one_cluster_place_across_the_bridge_and_see_a_kill_across_it()
    {
        var a = await StartAgentAsync("a", _first);
        var b = await StartAgentAsync("b", _second);
        var c = await StartAgentAsync("c", _second);
        await WaitForMembersAsync([a, b, c], [a, b, c]);

        // A (first broker) places on C (second broker); B places on A: requests go node to node over ZeroMQ.
        await AddCapabilityAsync(c, "lab");
        await AddCapabilityAsync(a, "camera");
        var onC = await DeployAsync(a, "across-to-c", "lab");
        AssertRunsOn(onC, c);
        var onA = await DeployAsync(b, "across-to-a", "camera");
        AssertRunsOn(onA, a);
        await DeleteAsync(a, onC);
        await DeleteAsync(b, onA);

        // SIGKILL: C's broker (the second) sends C's last will, and the bridge carries it to A.
        c.Kill();
        await WaitForMembersAsync([a, b], [a, b], seconds: 15);

        // A node that joins later, on the first broker, learns B across the bridge and does not list the dead C.
        var d = await StartAgentAsync("d", _first);
        await WaitForMembersAsync([a, b, d], [a, b, d]);
    }

    [Fact]
    public async Task Nodes_whose_broker_dies_go_on_through_the_next_broker_of_their_list_and_the_cluster_stays_one()
    {
        // Each node lists its own broker first and the other one second.
        var a = await StartAgentAsync("a", _first, _second);
        var b = await StartAgentAsync("b", _second, _first);
        var c = await StartAgentAsync("c", _second, _first);
        await WaitForMembersAsync([a, b, c], [a, b, c]);

        await _second.KillAsync();
        await Wait.UntilAsync(() => b.Output.Contains($"Joined the cluster through the MQTT broker at {_first.Ip}:1883", StringComparison.Ordinal)
            && c.Output.Contains($"Joined the cluster through the MQTT broker at {_first.Ip}:1883", StringComparison.Ordinal),
            "B and C joined the first broker", TimeSpan.FromSeconds(30), detail: () => b.Output + "\n" + c.Output);
        await WaitForMembersAsync([a, b, c], [a, b, c]);

        // Membership still works on the one broker left: a capability B adds now is what A places by.
        await AddCapabilityAsync(b, "lab");
        var onB = await DeployAsync(a, "after-failover", "lab");
        AssertRunsOn(onB, b);
        await DeleteAsync(a, onB);

        // And a kill is still seen by everyone.
        c.Kill();
        await WaitForMembersAsync([a, b], [a, b], seconds: 15);
    }
}
