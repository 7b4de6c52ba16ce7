using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// Two nodes on one host with one Docker engine: each node's Docker VAL lists the other's containers too (every
/// container labelled <c>motey.managed=true</c>), and the fence must leave them to the node that created them. Node A
/// (embedded broker) places a service only B can run (B has "lab") and one it runs itself; both fence every second.
/// The judge is the engine's own list of containers, not the agents' view.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Docker)]
public sealed class SharedEngineTests : IAsyncLifetime
{
    private const string Blueprint =
        "service_name: {0}\nimages:\n- name: motey/busybox:local\n  engine: docker\n  parameters: {{command: [sleep, \"300\"], network_mode: none}}\n{1}";

    private static readonly TimeSpan FenceInterval = TimeSpan.FromSeconds(1);

    private readonly TestScope _scope = new("motey-shared-engine-");
    private readonly List<string> _services = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync(async () =>
    {
        if (_services.Count > 0) await Faults.RemoveContainersAsync(_services);
    });

    private AgentProcess Start(string name, Dictionary<string, string> settings)
    {
        settings["ORCHESTRATOR:fence_interval"] = FenceInterval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return _scope.Add(AgentProcess.Start(_scope.Folder(name), AgentProcess.NextAddress(), settings));
    }

    private async Task<Service> PostAsync(AgentProcess a, string name, string capabilities)
    {
        var service = await Faults.PostAsync(a, string.Format(Blueprint, name, capabilities));
        _services.Add(service.Id);
        return service;
    }

    [Fact]
    public async Task Containers_two_nodes_run_on_one_engine_keep_running_through_both_nodes_fence_checks()
    {
        await LocalDocker.RequireAsync();
        var a = Start("a", new());
        await a.WaitHealthyAsync();
        var b = Start("b", new() { ["MQTT:broker"] = "external", ["MQTT:ip"] = a.Address });
        await b.WaitHealthyAsync();
        using (var put = await b.Client.PutAsync("/v1/capabilities",
                   new StringContent("""[{"capability": "lab", "capability_type": "hardware"}]""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await Faults.WaitUntilAsync(async () => (await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == 2, "node A knows B", agent: a);

        var remote = await PostAsync(a, "remote", "  capabilities: [lab]\n");
        var local = await PostAsync(a, "local", "");
        var onB = await Faults.WaitForServiceAsync(a, remote.Id, s => s.State == ServiceState.Running, "the lab service RUNNING");
        var onA = await Faults.WaitForServiceAsync(a, local.Id, s => s.State == ServiceState.Running, "the local service RUNNING");
        Assert.Equal(b.Address, onB.Images.Single().Node);
        Assert.Equal(a.Address, onA.Images.Single().Node);

        // Five fence checks of each node. A judged B's container as its own and stopped it ("runs on B"), and B had A
        // stop A's own container: each ended with exit code 143 and was placed again, at every check.
        await Faults.HoldsForAsync(async () =>
        {
            var problem = await StillTheOnlyContainerAsync(onB) ?? await StillTheOnlyContainerAsync(onA);
            return problem is null ? null : $"{problem}\n{Faults.Tail(a)}\n{Faults.Tail(b)}";
        }, FenceInterval * 5);
        foreach (var service in new[] { onB, onA })
        {
            var now = (await a.Client.GetFromJsonAsync<Service>($"/v1/service/{service.Id}"))!;
            Assert.True(now.State == ServiceState.Running && now.Images.Single().Restarts == 0,
                $"service {now.ServiceName} is {now.State} after {now.Images.Single().Restarts} restarts: {now.StateMessage}");
        }
    }

    /// <summary>Null while the engine runs the image's instance, and nothing else, for <paramref name="service"/>; else what it runs.</summary>
    private static async Task<string?> StillTheOnlyContainerAsync(Service service)
    {
        var instance = service.Images.Single().Id;
        var containers = await Faults.DockerContainersAsync(service.Id);
        return containers is [{ State: "running" } only] && only.Id == instance
            ? null
            : $"the engine no longer runs {instance} alone for service {service.ServiceName}: "
              + $"[{string.Join(", ", containers.Select(c => $"{c.Id} {c.State}"))}]";
    }
}
