using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// Every image of a live service runs exactly once, and nothing runs for a deleted service, whatever the order of
/// kill -9, restarts and deletes. Three real agents (process VAL) join a mosquitto broker: A places, B and C have the
/// capability "lab" A lacks. The judge is the operating system's process table: the image's processes are found by an
/// environment variable only they carry.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class ExactlyOnceTests : IAsyncLifetime
{
    private const string TagVariable = "MOTEY_EXACTLY_ONCE_TAG";

    /// <summary>The fence's bounds in these tests: a node asks every 1 s; an instance nobody answers for lives 6 s.</summary>
    private static readonly Dictionary<string, string> FastFence = new()
    {
        ["ORCHESTRATOR:fence_interval"] = "1",
        ["ORCHESTRATOR:orphan_grace"] = "6",
        ["ORCHESTRATOR:wait_retry"] = "1",
        ["PROCESS:allowed_executables"] = "/bin/sleep, /usr/bin/sleep",
    };

    private readonly TestScope _scope = new("motey-once-");
    private readonly string _tag = Guid.NewGuid().ToString("N");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync(() =>
    {
        Faults.KillAll(Faults.ProcessesWithEnvironment(TagVariable, v => v == _tag));
        return Task.CompletedTask;
    });

    private sealed record Cluster(AgentProcess A, AgentProcess B, AgentProcess C);

    private async Task<Cluster> StartAsync(bool lab = true)
    {
        var broker = new MosquittoBroker(_scope.Root, AgentProcess.NextAddress());
        await broker.StartAsync();
        _scope.Add(broker);
        // B sorts before C: placement takes the first capable peer in address order.
        var addresses = Enumerable.Range(0, 3).Select(_ => AgentProcess.NextAddress()).ToList();
        var peers = addresses.Skip(1).Order(StringComparer.Ordinal).ToList();
        var agents = new[] { addresses[0], peers[0], peers[1] }.Select((address, i) =>
        {
            var settings = new Dictionary<string, string>(FastFence)
            {
                ["MQTT:broker"] = "external",
                ["MQTT:ip"] = broker.Ip,
                ["MQTT:port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["MQTT:reconnect_max"] = "1",
            };
            return _scope.Add(AgentProcess.Start(_scope.Folder($"node{i}"), address, settings));
        }).ToArray();
        foreach (var agent in agents) await agent.WaitHealthyAsync();
        if (lab) foreach (var peer in agents.Skip(1)) await AddLabAsync(peer);
        await Faults.WaitUntilAsync(async () => (await NodesAsync(agents[0])).Count == 3, "A knows B and C", agent: agents[0]);
        return new Cluster(agents[0], agents[1], agents[2]);
    }

    private static async Task AddLabAsync(AgentProcess agent)
    {
        using var put = await agent.Client.PutAsync("/v1/capabilities",
            new StringContent("""[{"capability": "lab", "capability_type": "hardware"}]""", Encoding.UTF8, "application/json"));
        Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.NotModified, $"PUT lab on {agent.Address}: {put.StatusCode}");
    }

    private static async Task<List<string>> NodesAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToList();

    private Task<Service> PostAsync(AgentProcess agent) => Faults.PostAsync(agent,
        $"service_name: once\nimages:\n- name: sleep\n  engine: process\n  capabilities: [lab]\n  parameters: {{args: [300], env: {{{TagVariable}: {_tag}}}}}\n");

    private int Processes => Faults.ProcessesWithEnvironment(TagVariable, v => v == _tag).Count;

    private Task ProcessesAreAsync(int count, string what) =>
        Faults.WaitUntilAsync(() => Task.FromResult(Processes == count), $"{what}: {count} process(es) of the image (now {Processes})", seconds: 45);

    private static Task<Service> RunningOnAsync(AgentProcess placing, string id, AgentProcess node) =>
        Faults.WaitForServiceAsync(placing, id, s => s.State == ServiceState.Running && s.Images[0].Node == node.Address,
            $"the image runs on {node.Address}", seconds: 45);

    /// <summary>The user's sequence: B runs A's image, dies, the image moves to C, B comes back with its old process.</summary>
    [Fact]
    public async Task A_node_that_comes_back_after_its_image_moved_stops_its_old_instance()
    {
        var cluster = await StartAsync();
        var service = await PostAsync(cluster.A);
        await RunningOnAsync(cluster.A, service.Id, cluster.B);
        await ProcessesAreAsync(1, "running on B");

        cluster.B.Kill();
        await RunningOnAsync(cluster.A, service.Id, cluster.C);
        Assert.Equal(2, Processes);  // B's instance outlives B (process VAL instances are detached): the case to fence

        var b = _scope.Add(cluster.B.Restart());
        await b.WaitHealthyAsync();
        await ProcessesAreAsync(1, "B stopped the instance placed elsewhere meanwhile");
        Assert.Equal(cluster.C.Address, (await Faults.WaitForServiceAsync(cluster.A, service.Id, s => s.State == ServiceState.Running, "running")).Images[0].Node);
    }

    /// <summary>B dies with no other capable node: the image waits; the service is deleted while B is down; B comes back.</summary>
    [Fact]
    public async Task A_service_deleted_while_its_node_was_down_leaves_nothing_running_when_the_node_comes_back()
    {
        var cluster = await StartAsync();
        cluster.C.Terminate();  // a clean stop: only B can run it now
        await cluster.C.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var service = await PostAsync(cluster.A);
        await RunningOnAsync(cluster.A, service.Id, cluster.B);

        cluster.B.Kill();
        // The replacement passes through INITIAL before placement writes why it waits: wait for the reason too.
        var waiting = await Faults.WaitForServiceAsync(cluster.A, service.Id,
            s => s.State == ServiceState.Initial && s.StateMessage.Contains("waiting for a node", StringComparison.Ordinal),
            "the image waits for a node that can run it");
        Assert.Contains("waiting for a node", waiting.StateMessage);
        Assert.Equal(HttpStatusCode.Accepted, (await cluster.A.Client.DeleteAsync($"/v1/service/{service.Id}")).StatusCode);
        await Faults.WaitForServiceAsync(cluster.A, service.Id, s => s.State == ServiceState.Terminated, "terminated");
        Assert.Equal(HttpStatusCode.NoContent, (await cluster.A.Client.DeleteAsync($"/v1/service/{service.Id}")).StatusCode);
        Assert.Equal(1, Processes);

        var b = _scope.Add(cluster.B.Restart());
        await b.WaitHealthyAsync();
        await ProcessesAreAsync(0, "B stopped the instance of the deleted service");
    }

    /// <summary>The placing node dies: B stops the instance nobody answers for after the grace; A comes back and places it again.</summary>
    [Fact]
    public async Task An_instance_whose_placing_node_died_is_stopped_after_the_grace_and_placed_again_when_it_returns()
    {
        var cluster = await StartAsync();
        var service = await PostAsync(cluster.A);
        await RunningOnAsync(cluster.A, service.Id, cluster.B);

        cluster.A.Kill();
        await ProcessesAreAsync(0, "B stopped the instance whose placing node stayed away");

        var a = _scope.Add(cluster.A.Restart());
        await a.WaitHealthyAsync();
        await Faults.WaitForServiceAsync(a, service.Id, s => s.State == ServiceState.Running && s.Images[0].Restarts >= 1,
            "A placed the image again", seconds: 45);
        await ProcessesAreAsync(1, "the image runs once more");
        // And stays at one: the fence of every node agrees with A.
        await Faults.HoldsForAsync(() => Task.FromResult(Processes == 1 ? null : $"{Processes} processes"), TimeSpan.FromSeconds(4));
    }

    /// <summary>Both the placing and the running node die; they come back in either order.</summary>
    [Theory]
    [InlineData("placing node first")]
    [InlineData("running node first")]
    public async Task Both_nodes_killed_and_restarted_in_either_order_leave_exactly_one_instance(string order)
    {
        var cluster = await StartAsync();
        var service = await PostAsync(cluster.A);
        await RunningOnAsync(cluster.A, service.Id, cluster.B);

        cluster.A.Kill();
        cluster.B.Kill();
        AgentProcess a, b;
        if (order == "placing node first")
        {
            a = _scope.Add(cluster.A.Restart());
            await a.WaitHealthyAsync();
            b = _scope.Add(cluster.B.Restart());
        }
        else
        {
            b = _scope.Add(cluster.B.Restart());
            await b.WaitHealthyAsync();
            a = _scope.Add(cluster.A.Restart());
        }
        await a.WaitHealthyAsync();
        await b.WaitHealthyAsync();

        await Faults.WaitForServiceAsync(a, service.Id, s => s.State == ServiceState.Running, "the image runs", seconds: 45);
        await ProcessesAreAsync(1, "one instance of the image");
        await Faults.HoldsForAsync(() => Task.FromResult(Processes == 1 ? null : $"{Processes} processes"), TimeSpan.FromSeconds(4));
    }

    /// <summary>No node has "lab": the image waits; C gains it later and the image runs there, without another POST.</summary>
    [Fact]
    public async Task An_image_waits_for_a_capability_no_node_has_and_runs_once_a_node_gains_it()
    {
        var cluster = await StartAsync(lab: false);
        var service = await PostAsync(cluster.A);
        var waiting = await Faults.WaitForServiceAsync(cluster.A, service.Id,
            s => s.State == ServiceState.Initial && s.StateMessage.Contains("waiting for a node", StringComparison.Ordinal), "the image waits");
        Assert.Contains("capability 'lab'", waiting.StateMessage);
        Assert.Equal(0, Processes);

        await AddLabAsync(cluster.C);
        await RunningOnAsync(cluster.A, service.Id, cluster.C);
        await ProcessesAreAsync(1, "the image runs on the node that gained the capability");
    }
}
