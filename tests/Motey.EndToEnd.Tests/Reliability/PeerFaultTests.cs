using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// A peer killed with SIGKILL while node A places a service whose image only peers can run (they have the capability
/// "lab", A has not), at three moments: right after the POST (placement asks for capabilities), while the peer deploys
/// the image (held at its engine), and once the image is INSTANTIATING there. Whatever the moment, the image ends RUNNING
/// on a peer still alive when there is one, else waiting for a node (or ERROR when a deploy failed), within a bound: never INSTANTIATING forever.
/// </summary>
// Docker for every moment, not only the deploy one: the cleanup removes the containers of every service it posted.
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Docker)]
public sealed class PeerFaultTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string AfterPost = "right after the POST";
    private const string Deploying = "while it deploys the image";
    private const string Instantiating = "while the image is instantiating on it";
    private const string FenceInterval = "ORCHESTRATOR:fence_interval";

    private const string SimulatedBlueprint = "service_name: {0}\nimages:\n- name: web\n  engine: simulated\n  capabilities: [lab]\n";
    private const string DockerBlueprint = "service_name: {0}\nimages:\n- name: motey/busybox:local\n  engine: docker\n  parameters: {{command: [sleep, \"300\"], network_mode: none}}\n  capabilities: [lab]\n";

    private readonly TestScope _scope = new("motey-peer-");
    private readonly List<string> _services = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync(async () =>
    {
        if (_services.Count > 0) await Faults.RemoveContainersAsync(_services);
    });

    public static TheoryData<string> Moments => [AfterPost, Deploying, Instantiating];

    private sealed record Cluster(AgentProcess A, AgentProcess[] Peers, EngineProxy? DoomedEngine);

    /// <summary>
    /// Node A hosts the broker; the peers join it and get "lab". Peer instances take 2 s to start (simulated), so a
    /// deploy that reached a peer leaves the image INSTANTIATING there for a while. A remote deploy may take 60 s, longer than every wait below: a deploy
    /// to a dead peer must be given up because the peer left, not because the time ran out. For the
    /// deploy moment the doomed peer (peer 0, the one placement picks first) reaches Docker through a proxy that holds
    /// the container's creation. Every node fences every second, so the checks that the image stays where it ended span
    /// fence checks: in the deploy moment all three nodes share one Docker engine, and node A once stopped the survivor's
    /// container as if it were its own (it ended with exit code 143 and was placed again).
    /// </summary>
    private async Task<Cluster> StartClusterAsync(int peers, string moment)
    {
        if (moment == Deploying) await LocalDocker.RequireAsync();
        // Placement picks the first capable peer in address order (ordinal): sort so that peer 0 is the one picked.
        var addresses = Enumerable.Range(0, peers + 1).Select(_ => AgentProcess.NextAddress()).ToList();
        var a = Start("a", addresses[0], new Dictionary<string, string> { ["ZEROMQ:deploy_timeout"] = "60", [FenceInterval] = "1" });
        var peerAddresses = addresses.Skip(1).Order(StringComparer.Ordinal).ToList();
        EngineProxy? engine = null;
        if (moment == Deploying)
        {
            engine = new EngineProxy(Path.Combine(_scope.Root, "doomed-docker.sock"));
            engine.Start();
            _scope.Add(engine);
        }
        await a.WaitHealthyAsync();
        var started = peerAddresses.Select((address, i) =>
        {
            var settings = new Dictionary<string, string>
            {
                ["MQTT:broker"] = "external",
                ["MQTT:ip"] = a.Address,
                ["SIMULATED:start_delay_ms"] = "2000",
                [FenceInterval] = "1",
            };
            if (i == 0 && engine is not null) settings["DOCKER:url"] = engine.Url;
            return Start($"peer{i}", address, settings);
        }).ToArray();
        foreach (var peer in started)
        {
            await peer.WaitHealthyAsync();
            using var put = await peer.Client.PutAsync("/v1/capabilities",
                new StringContent("""[{"capability": "lab", "capability_type": "hardware"}]""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        await Faults.WaitUntilAsync(async () => (await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == peers + 1,
            $"node A knows all {peers} peers", agent: a);
        return new Cluster(a, started, engine);
    }

    private AgentProcess Start(string name, string address, Dictionary<string, string> settings)
    {
        var agent = AgentProcess.Start(_scope.Folder(name), address, settings);
        _scope.Add(agent);
        return agent;
    }

    /// <summary>Posts the service to A and kills the first peer at <paramref name="moment"/>.</summary>
    private async Task<Service> PostAndKillAsync(Cluster cluster, string name, string moment)
    {
        var doomed = cluster.Peers[0];
        var held = cluster.DoomedEngine?.Hold(new Regex(@"^POST \S*/containers/create", RegexOptions.Multiline), forwardFirst: false);
        var service = await Faults.PostAsync(cluster.A, string.Format(moment == Deploying ? DockerBlueprint : SimulatedBlueprint, name));
        _services.Add(service.Id);
        if (held is not null) await held.WaitAsync(TimeSpan.FromSeconds(30));
        if (moment == Instantiating)
        {
            await Faults.WaitForServiceAsync(cluster.A, service.Id,
                s => s.Images.Single() is { State: ImageState.Instantiating, Id.Length: > 0 } image && image.Node == doomed.Address,
                $"the image INSTANTIATING on {doomed.Address}");
        }
        doomed.Kill();
        return service;
    }

    [Theory]
    [MemberData(nameof(Moments))]
    public async Task The_only_capable_peer_killed_during_placement_leaves_the_image_waiting_or_in_error_naming_what_is_missing(string moment)
    {
        var cluster = await StartClusterAsync(peers: 1, moment);
        var service = await PostAndKillAsync(cluster, "remote", moment);

        // A deploy that failed on the peer is a failure (ERROR); an image no node can run any more waits for one (INITIAL).
        var settled = await Faults.WaitForServiceAsync(cluster.A, service.Id,
            s => s.State == ServiceState.Error || (s.State == ServiceState.Initial && s.StateMessage.Contains("waiting for a node", StringComparison.Ordinal)),
            "the image waits for a node or is in ERROR", seconds: 30);
        output.WriteLine($"ended {settled.State}: {settled.StateMessage}");
        Assert.True(settled.StateMessage.Contains("lab", StringComparison.Ordinal) || settled.StateMessage.Contains(cluster.Peers[0].Address, StringComparison.Ordinal),
            $"the reason names neither the capability nor the dead peer: {settled.StateMessage}");
        Assert.Equal(HttpStatusCode.NoContent, (await cluster.A.Client.GetAsync("/v1/heartbeat")).StatusCode);
        await Faults.WaitUntilAsync(async () => (await cluster.A.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == 1,
            "node A drops the dead peer", agent: cluster.A);
    }

    [Theory]
    [MemberData(nameof(Moments))]
    public async Task A_capable_peer_killed_during_placement_leaves_the_image_running_on_the_other_peer(string moment)
    {
        var cluster = await StartClusterAsync(peers: 2, moment);
        var (a, survivor) = (cluster.A, cluster.Peers[1]);
        var service = await PostAndKillAsync(cluster, "remote", moment);

        var settled = await Faults.WaitForServiceAsync(a, service.Id,
            s => s.State == ServiceState.Error || (s.State == ServiceState.Running && s.Images.Single().Node == survivor.Address),
            $"the image ends ERROR or RUNNING on the surviving peer {survivor.Address}", seconds: 30);
        output.WriteLine($"ended {settled.State} on {settled.Images.Single().Node} after {settled.Images.Single().Restarts} restarts: {settled.StateMessage}");
        Assert.True(settled.State == ServiceState.Running, $"the image was not placed on the survivor: {settled.State}, {settled.StateMessage}");
        // Once the image ran on the dead peer (an instance id there), its restart policy (on-failure) places it again; a
        // deploy cut short is no restart. Right after the POST, the kill may come before the peer answered the deploy or
        // after (a busy machine): what A recorded before the kill decides which.
        var events = await Faults.ImageEventsAsync(a, service.Id,
            e => e.GetProperty("node").GetString() == survivor.Address && e.GetProperty("state_name").GetString() == "RUNNING");
        var ranOnDoomed = events.Any(e => e.GetProperty("node").GetString() == cluster.Peers[0].Address && e.GetProperty("instance_id").GetString() is { Length: > 0 });
        if (moment == Instantiating) Assert.True(ranOnDoomed, $"the image never had an instance on {cluster.Peers[0].Address}: {string.Join("\n", events)}");
        if (moment == Deploying) Assert.False(ranOnDoomed, $"the deploy held at the engine gave an instance id: {string.Join("\n", events)}");
        Assert.Equal(ranOnDoomed ? 1 : 0, settled.Images.Single().Restarts);
        // Either way it stays so: no second copy is placed, nothing goes back to INSTANTIATING.
        await Faults.HoldsForAsync(async () =>
        {
            var now = (await a.Client.GetFromJsonAsync<Service>($"/v1/service/{service.Id}"))!;
            return now.State == settled.State && now.Images.Single().Id == settled.Images.Single().Id
                ? null
                : $"the service moved on from {settled.State} ({settled.Images.Single().Id}) to {now.State} ({now.Images.Single().Id}): {now.StateMessage}";
        }, TimeSpan.FromSeconds(2));
        if (moment == Deploying)
        {
            // The engine's own list: the create held for the dead peer never reached it, and nothing stopped the survivor's container.
            var containers = await Faults.DockerContainersAsync(service.Id);
            Assert.True(containers is [{ State: "running" } only] && only.Id == settled.Images.Single().Id,
                $"the engine does not run {settled.Images.Single().Id} alone: [{string.Join(", ", containers.Select(c => $"{c.Id} {c.State} on {c.Labels.GetValueOrDefault(InstanceLabels.Node)}"))}]");
        }

        // The cluster still places: a new service goes to the survivor.
        var next = await Faults.PostAsync(a, string.Format(SimulatedBlueprint, "next"));
        var running = await Faults.WaitForServiceAsync(a, next.Id, s => s.State == ServiceState.Running, "a new service RUNNING on the survivor");
        Assert.Equal(survivor.Address, running.Images.Single().Node);
    }
}
