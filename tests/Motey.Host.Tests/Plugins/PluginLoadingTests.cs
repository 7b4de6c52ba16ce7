using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Plugins;

/// <summary>The plugin catalog with real compiled plugins loaded from disk, good and broken.</summary>
public sealed class PluginLoadingTests
{
    private static async Task<Dictionary<string, JsonElement>> PluginsAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!
            .ToDictionary(p => p.GetProperty("name").GetString()!);

    [Fact]
    public async Task Shipped_plugins_load_activate_and_register_their_engine_as_plugin_capability()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder);
        var plugins = await PluginsAsync(node);
        Assert.Equal("Active", plugins[TestNode.Process].GetProperty("state").GetString());
        Assert.Equal("process", plugins[TestNode.Process].GetProperty("type").GetString());
        Assert.Equal("Active", plugins[TestNode.Simulated].GetProperty("state").GetString());
        var capabilities = await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities");
        Assert.Contains(new Capability("simulated", "plugin"), capabilities!);
    }

    [Fact]
    public async Task Broken_plugins_are_reported_and_the_node_keeps_working()
    {
        using var folder = new TestFolder();
        var pluginsDir = Path.Combine(folder.Path, "plugins");
        Directory.CreateDirectory(Path.Combine(pluginsDir, "Garbage"));
        File.WriteAllBytes(Path.Combine(pluginsDir, "Garbage", "Garbage.dll"), [0x4d, 0x5a, 0x00, 0x01, 0x02, 0x03]);
        Directory.CreateDirectory(Path.Combine(pluginsDir, "Empty"));

        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, TestNode.Throwing, TestNode.Hanging],
            new Dictionary<string, string> { ["PLUGINS:activation_timeout"] = "5" });

        var plugins = await PluginsAsync(node);
        Assert.Equal("Failed", plugins[TestNode.Throwing].GetProperty("state").GetString());
        Assert.Contains("engine socket /nonexistent is not reachable", plugins[TestNode.Throwing].GetProperty("error").GetString());
        Assert.Equal("TimedOut", plugins[TestNode.Hanging].GetProperty("state").GetString());
        Assert.Equal("Failed", plugins["Garbage"].GetProperty("state").GetString());
        Assert.Contains("not a loadable .NET assembly", plugins["Garbage"].GetProperty("error").GetString());
        Assert.Equal("Failed", plugins["Empty"].GetProperty("state").GetString());
        Assert.Contains("Empty.dll", plugins["Empty"].GetProperty("error").GetString());
        Assert.Equal("Active", plugins[TestNode.Simulated].GetProperty("state").GetString());

        var capabilities = (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;
        Assert.DoesNotContain(capabilities, c => c.Name is "throwing" or "hanging");
        Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);

        // A blueprint for the broken engine is accepted (the engine is known) but no node can run it yet: it waits.
        var response = await node.PostBlueprintAsync("service_name: s1\nimages:\n- name: x\n  engine: throwing\n");
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        var waiting = await node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Contains("engine 'throwing'", waiting.StateMessage);

        var working = (await (await node.PostBlueprintAsync("service_name: s2\nimages:\n- name: x\n  engine: simulated\n")).Content.ReadFromJsonAsync<Service>())!;
        await node.WaitForServiceAsync(working.Id, s => s.State == ServiceState.Running);
    }

    [Fact]
    public async Task A_plugin_built_against_an_incompatible_contract_fails_at_load_naming_both_versions()
    {
        const string otherContract = "Motey.TestVal.OtherContract";  // built against Motey.Abstractions 0.0.1
        var agent = typeof(IValPlugin).Assembly.GetName().Version!;
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, TestNode.Process, otherContract]);

        var plugins = await PluginsAsync(node);
        var refused = plugins[otherContract];
        Assert.Equal("Failed", refused.GetProperty("state").GetString());
        var error = refused.GetProperty("error").GetString();
        Assert.StartsWith($"built against Motey.Abstractions 0.0.1; this agent provides {agent.Major}.{agent.Minor}.{agent.Build} (compatible: ", error);
        Assert.EndsWith("rebuild the plugin against the agent's contract", error);
        // Refused before any of its code ran: it never said which engine it runs.
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("type").ValueKind);
        Assert.Equal("Active", plugins[TestNode.Simulated].GetProperty("state").GetString());
        Assert.Equal("Active", plugins[TestNode.Process].GetProperty("state").GetString());

        var capabilities = (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;
        Assert.DoesNotContain(capabilities, c => c.Name == "othercontract");
        // Nothing here runs its engine: the image waits for a node with it, as for any engine this node lacks.
        var response = await node.PostBlueprintAsync("service_name: s3\nimages:\n- name: x\n  engine: othercontract\n");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        var waiting = await node.WaitForServiceAsync(service.Id, s => s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Contains("capability 'othercontract' of type plugin", waiting.StateMessage);
    }

    [Fact]
    public async Task A_plugin_gets_its_own_copy_of_a_dependency_the_host_uses_in_another_version()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Isolation]);
        var response = await node.PostBlueprintAsync("service_name: iso\nimages:\n- name: x\n  engine: isolation\n");
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        var running = await node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running);

        var parts = running.Images.Single().Id.Split('|');
        var hostYaml = typeof(YamlDotNet.Core.Parser).Assembly;
        Assert.Equal("16.0.0.0", parts[0]);  // YamlDotNet 16.3.0 has assembly version 16.0.0.0
        Assert.NotEqual(hostYaml.GetName().Version!.ToString(), parts[0]);
        Assert.Equal(TestNode.Isolation, parts[1]);  // loaded in the plugin's own context
        Assert.Equal("v", parts[2]);
        Assert.Equal("Default", System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(hostYaml)!.Name);
    }

    [Fact]
    public async Task Stopping_the_node_withdraws_the_plugin_capabilities()
    {
        using var folder = new TestFolder();
        var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        await node.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability":"gpu","capability_type":"hardware"}]""", "application/json");
        await node.DisposeAsync();

        var database = new Database(Path.Combine(folder.Path, "data", "motey.db"));
        var left = await new CapabilityRepository(database).AllAsync();
        Assert.DoesNotContain(left, c => c.Type == Capability.PluginType);
        Assert.Contains(new Capability("gpu", "hardware"), left);
    }

    [Fact]
    public async Task A_missing_plugins_folder_leaves_a_healthy_node_without_engines()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [], new Dictionary<string, string> { ["PLUGINS:path"] = "nowhere" });
        Assert.Empty((await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!);
        Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);
        var response = await node.PostBlueprintAsync("service_name: s4\nimages:\n- name: x\n  engine: simulated\n");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        var waiting = await node.WaitForServiceAsync(service.Id, s => s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Contains("capability 'simulated' of type plugin", waiting.StateMessage);
    }

    [Fact]
    public async Task An_engine_that_goes_away_loses_its_capability_and_gets_it_back_when_it_returns()
    {
        using var folder = new TestFolder();
        var flag = Path.Combine(folder.Path, "data", "plugins", "flaky", "engine-down");
        Directory.CreateDirectory(Path.GetDirectoryName(flag)!);
        File.WriteAllText(flag, "down at start");
        await using var node = await TestNode.StartAsync(folder, [TestNode.Flaky]);
        var flaky = new Capability("flaky", Capability.PluginType);

        async Task<bool> HasCapability() => (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!.Contains(flaky);

        Assert.False(await HasCapability(), "an engine down at start is not a capability");
        var plugin = (await PluginsAsync(node))[TestNode.Flaky];
        Assert.Equal("Active", plugin.GetProperty("state").GetString());
        Assert.False(plugin.GetProperty("engine_available").GetBoolean());
        Assert.Contains("engine-down", plugin.GetProperty("engine_problem").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);
        var waiting = (await (await node.PostBlueprintAsync("service_name: s5\nimages:\n- name: x\n  engine: flaky\n")).Content.ReadFromJsonAsync<Service>())!;
        Assert.Contains("engine 'flaky'", (await node.WaitForServiceAsync(waiting.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal))).StateMessage);

        File.Delete(flag);
        await Wait.UntilAsync(HasCapability, "the engine's capability is registered again");
        await node.WaitForServiceAsync(waiting.Id, s => s.State == ServiceState.Running);
        var accepted = (await (await node.PostBlueprintAsync("service_name: s6\nimages:\n- name: x\n  engine: flaky\n")).Content.ReadFromJsonAsync<Service>())!;
        await node.WaitForServiceAsync(accepted.Id, s => s.State == ServiceState.Running);

        File.WriteAllText(flag, "down again");
        await Wait.UntilAsync(async () => !await HasCapability(), "the engine's capability is withdrawn");
        Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);
    }
}
