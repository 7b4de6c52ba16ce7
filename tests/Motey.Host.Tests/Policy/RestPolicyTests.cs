using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Policy;

/// <summary>
/// The blueprint policy at POST /v1/service: each rule breached is a 400 naming the option and the setting that allows
/// it, and nothing is stored. The node's Docker VAL points at a socket that does not exist: the policy needs no engine,
/// and a blueprint that passes can never start a container here.
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
    public async Task A_blueprint_the_policy_forbids_is_refused_with_400_naming_the_option_and_the_setting_and_nothing_is_stored(PolicyRule rule)
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);

        await AssertRefusedAsync(node, rule);
    }

    [Theory]
    [MemberData(nameof(PolicyRules.EachNever), MemberType = typeof(PolicyRules))]
    public async Task The_docker_socket_and_the_hosts_root_are_refused_even_where_bind_mounts_are_allowed(PolicyRule rule)
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
    public async Task Every_refused_image_of_a_blueprint_is_named_at_once()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var images = string.Concat(PolicyRules.All.Select(r => $"- name: {r.Image}\n  engine: {r.Engine}\n  parameters: {r.Parameters}\n"));

        var response = await node.PostBlueprintAsync($"service_name: many\nimages:\n{images}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(PolicyRules.All.Select((r, i) => ($"images[{i}].{r.Where}", r.Message)), await ErrorsAsync(response));
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
