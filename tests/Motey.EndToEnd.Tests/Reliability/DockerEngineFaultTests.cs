using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// The Docker engine gone in the middle of a deploy: the agent reaches the engine through a proxy of the test's own
/// (<see cref="EngineProxy"/>), which is stopped the moment the agent asks the engine to start the container it has just
/// created. The service ends ERROR naming the engine, the agent stays healthy, a new service runs once the engine is
/// back, and deleting the failed service leaves nothing behind at the engine.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Docker)]
public sealed class DockerEngineFaultTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Blueprint = "service_name: {0}\nimages:\n- name: motey/busybox:local\n  engine: docker\n  parameters: {{command: [sleep, \"300\"], network_mode: none}}\n";

    private readonly string _folder = Directory.CreateTempSubdirectory("motey-engine-").FullName;
    private readonly List<string> _services = [];
    private EngineProxy? _proxy;
    private AgentProcess? _agent;

    private EngineProxy Proxy => _proxy!;
    private AgentProcess Agent => _agent!;

    public async Task InitializeAsync()
    {
        await LocalDocker.RequireAsync();
        _proxy = new EngineProxy(Path.Combine(_folder, "docker.sock"));
        _proxy.Start();
        _agent = AgentProcess.Start(_folder, settings: new Dictionary<string, string>
        {
            ["DOCKER:url"] = _proxy.Url,
            ["DOCKER:stop_timeout"] = "1",
            ["PLUGINS:health_interval"] = "0.5",
        });
        await Agent.WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null) await _agent.DisposeAsync();
        if (_proxy is not null) await _proxy.DisposeAsync();
        await Faults.RemoveContainersAsync(_services);
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public async Task The_engine_stopped_in_the_middle_of_a_deploy_names_the_engine_keeps_the_agent_healthy_and_leaves_nothing_behind()
    {
        var held = Proxy.Hold(new Regex(@"^POST \S*/containers/[0-9a-f]+/start", RegexOptions.Multiline), forwardFirst: false);
        var cut = await Faults.PostAsync(Agent, string.Format(Blueprint, "cut"));
        _services.Add(cut.Id);
        await held.WaitAsync(TimeSpan.FromSeconds(60));
        Proxy.Stop();  // the engine is gone between creating the container and starting it

        // ERROR, or (should a failed deploy fall under the restart policy) waiting to restart: either way saying why.
        var engine = $"docker engine at {Proxy.Url}";
        var failed = await Faults.WaitForServiceAsync(Agent, cut.Id, s => s.State is ServiceState.Error or ServiceState.Instantiating && s.StateMessage.Contains(engine, StringComparison.Ordinal),
            "the cut deploy ends ERROR (or waits to restart) naming the engine");
        output.WriteLine($"while the engine is away: {failed.State}: {failed.StateMessage}");
        Assert.Equal(HttpStatusCode.NoContent, (await Agent.Client.GetAsync("/v1/heartbeat")).StatusCode);
        await Faults.WaitUntilAsync(async () => !await HasDockerAsync(), "the docker capability is withdrawn while the engine is away", agent: Agent);
        var plugin = (await Agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!.Single(p => p.GetProperty("type").GetString() == "docker");
        Assert.False(plugin.GetProperty("engine_available").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await Agent.Client.GetAsync("/v1/heartbeat")).StatusCode);

        Proxy.Start();
        await Faults.WaitUntilAsync(HasDockerAsync, "the docker capability is back with the engine", agent: Agent);
        var after = await Faults.PostAsync(Agent, string.Format(Blueprint, "after"));
        _services.Add(after.Id);
        var running = await Faults.WaitForServiceAsync(Agent, after.Id, s => s.State == ServiceState.Running, "a new service RUNNING once the engine is back");
        Assert.Equal([running.Images.Single().Id], (await Faults.DockerContainersAsync(after.Id)).Select(c => c.Id));
        var cutNow = await Faults.WaitForServiceAsync(Agent, cut.Id, s => s.State is ServiceState.Error or ServiceState.Running,
            "the cut service stays ERROR or runs again with the engine back");
        output.WriteLine($"with the engine back: {cutNow.State}: {cutNow.StateMessage}");
        if (cutNow.State == ServiceState.Running)
            Assert.Equal([cutNow.Images.Single().Id], (await Faults.DockerContainersAsync(cut.Id)).Where(c => c.State == "running").Select(c => c.Id));

        // The failed service is deleted (removed at once when it had ended, else terminated): whatever its cut deploy
        // left at the engine goes with it.
        var deleted = await Agent.Client.DeleteAsync($"/v1/service/{cut.Id}");
        Assert.True(deleted.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.NoContent, $"DELETE answered {deleted.StatusCode}");
        if (deleted.StatusCode == HttpStatusCode.Accepted)
            await Faults.WaitForServiceAsync(Agent, cut.Id, s => s.State == ServiceState.Terminated, "the failed service TERMINATED");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<LocalDocker.Container> left;
        while ((left = await Faults.DockerContainersAsync(cut.Id)).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(left.Count == 0, "containers of the deleted service are left at the engine: "
            + string.Join(", ", left.Select(c => $"{c.Id[..12]} ({c.State}, labels {string.Join(" ", c.Labels.Where(l => l.Key.StartsWith("motey.", StringComparison.Ordinal)).Select(l => $"{l.Key}={l.Value}"))})")));
    }

    private async Task<bool> HasDockerAsync() =>
        (await Agent.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!.Contains(new Capability("docker", Capability.PluginType));
}
