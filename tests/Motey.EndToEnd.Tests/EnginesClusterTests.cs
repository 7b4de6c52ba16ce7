using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Two agents as real processes with different plugins, as in a fog where a sensor node has no container engine: node A's
/// plugins folder is empty, node B has the shipped simulated and process plugins. What is posted to A runs on B, or waits until B is there; B's
/// refusals show at A.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class EnginesClusterTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-engines-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    private static async Task<Service> PostAsync(AgentProcess agent, string yaml)
    {
        var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of(yaml));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    private static Task<Service> WaitForImageAsync(AgentProcess agent, string id, Func<Image, bool> condition, string what) =>
        Wait.ForAsync(async () => (await agent.Client.GetFromJsonAsync<Service>($"/v1/service/{id}"))!, s => condition(s.Images[0]),
            what, s => $"it is {s.State} ({s.StateMessage})\n{agent.Output}", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

    [Fact]
    public async Task A_simulated_blueprint_posted_to_a_node_without_the_plugin_waits_then_runs_on_the_node_that_joins_with_it()
    {
        // A: its own embedded broker, and a plugins folder without any plugin (the build's folder holds all three).
        var folderA = _scope.Folder("a");
        var a = _scope.Add(AgentProcess.Start(folderA, settings: new Dictionary<string, string>
        {
            ["PLUGINS:path"] = Directory.CreateDirectory(Path.Combine(folderA, "no-plugins")).FullName,
        }));
        await a.WaitHealthyAsync();
        Assert.DoesNotContain((await a.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!, c => c.Type == Capability.PluginType);

        var simulated = await PostAsync(a, "service_name: sim\nimages:\n- name: web\n  engine: simulated\n  parameters: {start_delay_ms: 50}\n");
        var waiting = await WaitForImageAsync(a, simulated.Id, i => i.StateMessage.StartsWith(Deployer.WaitingPrefix, StringComparison.Ordinal), "the image waits");
        Assert.Equal(ServiceState.Initial, waiting.State);
        Assert.Contains("lacks engine 'simulated' (capability 'simulated' of type plugin)", waiting.Images[0].StateMessage);

        // B joins A's broker with the simulated and process plugins of the build (not Docker: this test must not depend on
        // an engine); it runs /usr/bin/sleep and nothing else.
        var folderB = _scope.Folder("b");
        foreach (var plugin in new[] { "Motey.Val.Simulated", "Motey.Val.Process" })
            CopyFolder(Path.Combine(Build.AgentDirectory, "plugins", plugin), Path.Combine(folderB, "plugins", plugin));
        var b = _scope.Add(AgentProcess.Start(folderB, settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
            ["PLUGINS:path"] = "plugins",
            ["PROCESS:allowed_executables"] = "/usr/bin/sleep",
        }));
        await b.WaitHealthyAsync();

        await a.WaitForServiceAsync(simulated.Id, ServiceState.Running);
        var listed = Assert.Single((await a.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!, s => s.Id == simulated.Id);
        Assert.Equal(b.Address, listed.Images.Single().Node);
        var instance = Assert.Single((await b.Client.GetFromJsonAsync<List<JsonElement>>("/v1/instances"))!);
        Assert.Equal(listed.Images[0].Id, instance.GetProperty("id").GetString());

        // B's policy has the last word on what runs on B: the refusal is the image's state message at A.
        var refused = await PostAsync(a, "service_name: truth\nimages:\n- name: /usr/bin/true\n  engine: process\n");
        var failed = await a.WaitForServiceAsync(refused.Id, ServiceState.Error);
        Assert.Contains($"node {b.Address} could not deploy image /usr/bin/true: name: executable /usr/bin/true is not allowed on this node; "
            + "adding /usr/bin/true (or a folder above it) to [PROCESS] allowed_executables allows it", failed.Images[0].StateMessage);

        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{simulated.Id}")).StatusCode);
        await a.WaitForServiceAsync(simulated.Id, ServiceState.Terminated);
        Assert.Empty((await b.Client.GetFromJsonAsync<List<JsonElement>>("/v1/instances"))!);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
