using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Policy;

/// <summary>
/// The blueprint policy as POST /v1/service meets it. A node's policy is checked by the node that runs the image, since
/// another node may allow what this one does not: a blueprint only the policy forbids is accepted (201), and on a node
/// alone its image ends ERROR with the refusal, naming the option and the setting that allows it. What no setting allows,
/// and parameters the engine cannot read, are refused at once with 400. The node's Docker VAL points at a socket that
/// does not exist: the checks need no engine, and a blueprint that passes can never start a container here.
/// </summary>
public sealed class RestPolicyTests
{
    private static async Task<TestNode> StartAsync(TestFolder folder, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string> { ["DOCKER:url"] = $"unix://{folder.Path}/no-engine.sock" };
        foreach (var (key, value) in settings) values[key] = value;
        return await TestNode.StartAsync(folder, [TestNode.Docker, TestNode.Process], values);
    }

    [Theory]
    [MemberData(nameof(PolicyRules.Each), MemberType = typeof(PolicyRules))]
    public async Task A_blueprint_only_the_policy_forbids_is_accepted_since_another_node_may_allow_it(PolicyRule rule)
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);

        var response = await node.PostBlueprintAsync(rule.Blueprint("elsewhere"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<Service>())!;
        Assert.Equal(rule.Image, (await node.GetServiceAsync(created.Id)).Images.Single().Name);
    }

    [Fact]
    public async Task On_a_node_alone_an_image_its_policy_forbids_ends_in_error_naming_the_option_and_the_setting_and_nothing_runs()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var rule = PolicyRules.All.Single(r => r.Engine == "process");

        var created = (await (await node.PostBlueprintAsync(rule.Blueprint("refused"))).Content.ReadFromJsonAsync<Service>())!;

        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        var image = failed.Images.Single();
        Assert.Equal(ImageState.Error, image.State);
        Assert.Contains($"deploy on {node.Address} failed: {rule.Refusal}", image.StateMessage);
        Assert.Equal("", image.Id);
        Assert.Empty(await node.Services.GetRequiredService<Motey.Host.Plugins.PluginCatalog>().Find("process")!.GetRunningInstancesAsync(CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(PolicyRules.EachNever), MemberType = typeof(PolicyRules))]
    public async Task The_docker_socket_and_the_hosts_root_are_refused_at_post_even_where_bind_mounts_are_allowed(PolicyRule rule)
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder, rule.Setting);

        await AssertRefusedAsync(node, rule);
    }

    [Theory]
    [MemberData(nameof(PolicyRules.Each), MemberType = typeof(PolicyRules))]
    public async Task The_same_blueprint_is_accepted_where_the_setting_allows_it(PolicyRule rule)
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder, rule.Setting);

        var response = await node.PostBlueprintAsync(rule.Blueprint("allowed"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<Service>())!;
        Assert.Equal(HttpStatusCode.Accepted, (await node.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    [Fact]
    public async Task Every_image_whose_parameters_its_engine_cannot_read_is_named_at_once()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var images = string.Concat(PolicyRules.Never.Select(r => $"- name: {r.Image}\n  engine: {r.Engine}\n  parameters: {r.Parameters}\n"))
            + "- name: /usr/bin/sleep\n  engine: process\n  parameters: {args: {a: 1}}\n"
            + "- name: busybox\n  engine: docker\n  parameters: {enviroment: {A: b}}\n";

        var response = await node.PostBlueprintAsync($"service_name: many\nimages:\n{images}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var wheres = (await ErrorsAsync(response)).Select(e => e.Item1).ToList();
        Assert.Equal([.. PolicyRules.Never.Select((r, i) => $"images[{i}].{r.Where}"), "images[2].parameters.args", "images[3].parameters.enviroment"], wheres);
        Assert.Empty((await node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!);
    }

    [Fact]
    public async Task An_allowed_process_runs_as_nobody_when_the_agent_is_root()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test runs as root, as the agent does under systemd");
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder, ("PROCESS:allowed_executables", "/usr/bin/sleep"));
        var response = await node.PostBlueprintAsync(PolicyRules.All.Single(r => r.Engine == "process").Blueprint("as-nobody"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<Service>())!;

        var running = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var pid = int.Parse(running.Images.Single().Id.Split('-')[0]);
        await Wait.UntilAsync(() => ProcFsProbe.CommandLine(pid) is ["/usr/bin/sleep", ..], "the instance runs sleep");

        Assert.Equal("65534 65534 65534 65534", Status(pid, "Uid"));
        await node.Client.DeleteAsync($"/v1/service/{created.Id}");
        await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    private static async Task AssertRefusedAsync(TestNode node, PolicyRule rule)
    {
        var response = await node.PostBlueprintAsync(rule.Blueprint("refused"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([($"images[0].{rule.Where}", rule.Message)], await ErrorsAsync(response));
        Assert.Empty((await node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!);
    }

    /// <summary>The problem's errors as (where, message).</summary>
    private static async Task<List<(string, string)>> ErrorsAsync(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("where").GetString()!, e.GetProperty("message").GetString()!)).ToList();
    }

    private static string Status(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim().Replace('\t', ' ');
}
