using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Orchestration;

/// <summary>
/// Nodes with different plugins, in-process and joined through node A's embedded broker over real sockets: a blueprint
/// posted to a node without its engine waits for, or goes to, a node with the engine's plugin capability, and the
/// running node's VAL has the last word on its parameters and policy.
/// </summary>
public sealed class EnginesAcrossTheClusterTests
{
    /// <summary>Node B, using A's broker, with <paramref name="plugins"/> and <paramref name="settings"/>; returns once A knows it.</summary>
    private static async Task<TestNode> JoinAsync(TestNode a, TestFolder folder, string[] plugins, Dictionary<string, string>? settings = null)
    {
        settings ??= [];
        settings["MQTT:broker"] = "external";
        settings["MQTT:ip"] = a.Address;
        var b = await TestNode.StartAsync(folder, plugins, settings);
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == 2, "node A knows node B");
        return b;
    }

    private static async Task<Service> PostAsync(TestNode node, string yaml)
    {
        var response = await node.PostBlueprintAsync(yaml);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    [Fact]
    public async Task An_image_whose_engine_no_node_has_waits_naming_the_plugin_capability_and_runs_on_the_node_that_joins_with_it()
    {
        using var folderA = new TestFolder();
        using var folderB = new TestFolder();
        // wait_retry long: only B's joining can place the image within the wait below.
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Process], new Dictionary<string, string> { ["ORCHESTRATOR:wait_retry"] = "600" });
        var created = await PostAsync(a, "service_name: sim\nimages:\n- name: web\n  engine: simulated\n  parameters: {start_delay_ms: 10}\n");

        var waiting = await a.WaitForServiceAsync(created.Id, s => s.Images[0].StateMessage.StartsWith(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Equal(ServiceState.Initial, waiting.State);
        Assert.EndsWith($"node {a.Address} lacks engine 'simulated' (capability 'simulated' of type plugin); no other node is known", waiting.Images[0].StateMessage);

        await using var b = await JoinAsync(a, folderB, [TestNode.Simulated]);

        var running = await a.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var image = running.Images.Single();
        Assert.Equal(b.Address, image.Node);
        Assert.Equal("", running.StateMessage);
        var instance = Assert.Single((await b.Client.GetFromJsonAsync<List<JsonElement>>("/v1/instances"))!);
        Assert.Equal(image.Id, instance.GetProperty("id").GetString());
        Assert.Equal(a.Address, instance.GetProperty("placed_by").GetString());
    }

    [Fact]
    public async Task The_running_nodes_refusal_of_an_image_becomes_its_state_message_at_the_node_that_placed_it()
    {
        using var folderA = new TestFolder();
        using var folderB = new TestFolder();
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Simulated]);
        await using var b = await JoinAsync(a, folderB, [TestNode.Process], new() { ["PROCESS:allowed_executables"] = "/usr/bin/sleep" });

        // B's policy: true is not an executable B allows. A has no process plugin, so A accepted it without a look.
        var policy = await PostAsync(a, "service_name: truth\nimages:\n- name: /usr/bin/true\n  engine: process\n");
        // B's syntax: A cannot read process parameters, B can.
        var syntax = await PostAsync(a, "service_name: bad-args\nimages:\n- name: /usr/bin/sleep\n  engine: process\n  parameters: {args: {a: 1}}\n");

        var refused = (await a.WaitForServiceAsync(policy.Id, s => s.State == ServiceState.Error)).Images.Single();
        Assert.Equal(ImageState.Error, refused.State);
        Assert.Contains($"deploy on {b.Address} failed: node {b.Address} could not deploy image /usr/bin/true: name: executable /usr/bin/true is not allowed on this node; "
            + "adding /usr/bin/true (or a folder above it) to [PROCESS] allowed_executables allows it", refused.StateMessage);
        var unreadable = (await a.WaitForServiceAsync(syntax.Id, s => s.State == ServiceState.Error)).Images.Single();
        Assert.Contains($"deploy on {b.Address} failed: node {b.Address} could not deploy image /usr/bin/sleep: parameters.args:", unreadable.StateMessage);
        Assert.Empty((await b.Client.GetFromJsonAsync<List<JsonElement>>("/v1/instances"))!);

        // What B allows runs there.
        var allowed = await PostAsync(a, "service_name: sleeper\nimages:\n- name: /usr/bin/sleep\n  engine: process\n  parameters: {args: [300]}\n");
        var running = await a.WaitForServiceAsync(allowed.Id, s => s.State == ServiceState.Running);
        Assert.Equal(b.Address, running.Images.Single().Node);
        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{allowed.Id}")).StatusCode);
        await a.WaitForServiceAsync(allowed.Id, s => s.State == ServiceState.Terminated);
    }
}
