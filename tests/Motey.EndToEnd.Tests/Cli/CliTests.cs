using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Cli;

/// <summary>
/// The client commands (`motey service ...`, `nodes`, `capabilities`, `plugins`) as an operator runs them: real `motey`
/// processes against a real agent process, found through its config.ini as `motey status` finds it.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class CliTests(CliAgent node) : IClassFixture<CliAgent>
{
    private string Address => node.Agent.Address;

    private static string Simulated(string name, string extra = "") => $"""
        service_name: {name}
        images:
          - name: sleeper
            engine: simulated
        {extra}
        """;

    [Fact]
    public async Task Service_deploy_prints_the_progress_until_the_image_runs_and_ls_and_show_list_it()
    {
        var result = await node.MoteyAsync("service", "deploy", node.Blueprint("progress", Simulated("progress")));

        Assert.True(result.Code == 0, result.ToString());
        var id = JsonSerializer.Deserialize<List<Service>>(await node.Agent.Client.GetStringAsync("/v1/service"))!.Single(s => s.ServiceName == "progress").Id;
        Assert.Contains($"service {id} (progress) accepted by http://{Address}:{node.Agent.Port}", result.Out);
        // From the node's events: every change, in order (the simulated start takes 500 ms, so INSTANTIATING is seen).
        var address = Address.Replace(".", @"\.");
        Assert.Matches($@"(?m)^\d\d:\d\d:\d\d  images\[0\] sleeper  INSTANTIATING on {address}\n\d\d:\d\d:\d\d  images\[0\] sleeper  RUNNING on {address}$",
            result.Out);
        Assert.EndsWith($"service {id} (progress) is RUNNING\n", result.Out);
        Assert.Equal("", result.Error);

        var ls = await node.MoteyAsync("service", "ls");
        Assert.True(ls.Code == 0, ls.ToString());
        Assert.Matches(@"^ID +NAME +STATE +IMAGES +NODES +MESSAGE\n", ls.Out);
        Assert.Matches($@"(?m)^{id} +progress +RUNNING +1/1 +{Address.Replace(".", @"\.")}$", ls.Out);

        var show = await node.MoteyAsync("service", "show", "progress");
        Assert.True(show.Code == 0, show.ToString());
        Assert.Contains($"id:       {id}\n", show.Out);
        Assert.Contains("state:    RUNNING\n", show.Out);
        var instance = (await node.Agent.WaitForServiceAsync(id, ServiceState.Running)).Images[0].Id;
        Assert.Matches($@"(?m)^0 +sleeper +simulated +RUNNING +{Address.Replace(".", @"\.")} +{instance} +0 +- *$", show.Out);
    }

    [Fact]
    public async Task Json_prints_the_nodes_answers_unchanged_for_scripts()
    {
        var deployed = await node.MoteyWithInputAsync(Simulated("scripted"), "service", "deploy", "-", "--no-wait", "--json");
        Assert.True(deployed.Code == 0, deployed.ToString());
        var service = JsonSerializer.Deserialize<Service>(deployed.Out)!;
        Assert.Equal("scripted", service.ServiceName);
        await node.Agent.WaitForServiceAsync(service.Id, ServiceState.Running);

        var ls = await node.MoteyAsync("service", "ls", "--json");
        Assert.Contains(JsonSerializer.Deserialize<List<Service>>(ls.Out)!, s => s.Id == service.Id && s.State == ServiceState.Running);
        var show = await node.MoteyAsync("service", "show", service.Id, "--json");
        Assert.Equal(ServiceState.Running, JsonSerializer.Deserialize<Service>(show.Out)!.State);
        var nodes = await node.MoteyAsync("nodes", "--json");
        Assert.Equal(Address, JsonDocument.Parse(nodes.Out).RootElement[0].GetProperty("ip").GetString());
        var plugins = await node.MoteyAsync("plugins", "--json");
        Assert.Contains(JsonDocument.Parse(plugins.Out).RootElement.EnumerateArray(), p => p.GetProperty("name").GetString() == "Motey.Val.Simulated");
        var capabilities = await node.MoteyAsync("capabilities", "ls", "--json");
        Assert.Contains(JsonSerializer.Deserialize<List<Capability>>(capabilities.Out)!, c => c == new Capability("simulated", "plugin"));
        Assert.All(new[] { ls, show, nodes, plugins, capabilities }, r => Assert.True(r.Code == 0 && r.Error == "", r.ToString()));
    }

    [Fact]
    public async Task A_refused_blueprint_exits_1_with_the_problem_as_a_sentence_and_with_json_the_problem_itself()
    {
        var file = node.Blueprint("refused", "service_name: refused\nimages:\n  - name: sleeper\n");

        var result = await node.MoteyAsync("service", "deploy", file);

        Assert.Equal(1, result.Code);
        Assert.Matches(@"^motey: Invalid blueprint: images\[0\]\.engine: .*\(line 3, column \d+\)\n$", result.Error);
        Assert.Equal("", result.Out);

        var json = await node.MoteyAsync("service", "deploy", file, "--json");
        Assert.Equal(1, json.Code);
        var problem = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("Invalid blueprint", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_service_whose_image_fails_exits_1_saying_it_ended_in_ERROR()
    {
        var result = await node.MoteyAsync("service", "deploy",
            node.Blueprint("failing", Simulated("failing", "    parameters:\n      fail: true\n").Replace("\n\n", "\n")));

        Assert.True(result.Code == 1, result.ToString());
        Assert.Matches(@"^motey: service \w+ \(failing\) ended in ERROR: ", result.Error);
    }

    [Fact]
    public async Task A_deploy_no_node_can_run_times_out_with_exit_4_saying_why_it_waits()
    {
        var blueprint = "service_name: unplaceable\nimages:\n  - name: sleeper\n    engine: simulated\n    capabilities: [unicorn]\n";

        var result = await node.MoteyAsync("service", "deploy", node.Blueprint("unplaceable", blueprint), "--timeout", "2");

        Assert.True(result.Code == 4, result.ToString());
        Assert.Contains("(unplaceable) is not RUNNING after 2 s: it is INITIAL", result.Error);
        Assert.Contains("unicorn", result.Error);
        Assert.Contains("motey service rm", result.Error);
        var removed = await node.MoteyAsync("service", "rm", "unplaceable");
        Assert.True(removed.Code == 0, removed.ToString());
    }

    [Fact]
    public async Task An_unknown_service_exits_1_for_show_rm_and_logs()
    {
        foreach (var command in new[] { "show", "rm", "logs" })
        {
            var result = await node.MoteyAsync("service", command, "no-such-service");

            Assert.True(result.Code == 1, result.ToString());
            Assert.Equal("motey: no service with id or name 'no-such-service'\n", result.Error);
        }
    }

    [Fact]
    public async Task Service_rm_waits_until_the_service_is_terminated_and_a_second_rm_removes_it()
    {
        var deployed = await node.MoteyAsync("service", "deploy", node.Blueprint("removed", Simulated("removed")));
        Assert.True(deployed.Code == 0, deployed.ToString());

        var rm = await node.MoteyAsync("service", "rm", "removed");

        Assert.True(rm.Code == 0, rm.ToString());
        Assert.Matches(@"^service (\w+) \(removed\) is terminating\nservice \1 \(removed\) is terminated\n$", rm.Out);
        var show = await node.MoteyAsync("service", "show", "removed");
        Assert.Contains("state:    TERMINATED", show.Out);
        Assert.Matches(@"(?m)^0 +sleeper +simulated +TERMINATED ", show.Out);

        rm = await node.MoteyAsync("service", "rm", "removed");
        Assert.True(rm.Code == 0, rm.ToString());
        Assert.Contains("(removed) had ended and is removed", rm.Out);
        Assert.Equal(1, (await node.MoteyAsync("service", "show", "removed")).Code);
    }

    [Fact]
    public async Task Service_rm_of_a_service_with_a_failed_image_waits_for_the_others_to_stop_and_exits_0()
    {
        const string blueprint = """
            service_name: halffailed
            images:
              - name: broken
                engine: simulated
                parameters:
                  fail: true
              - name: healthy
                engine: simulated
            """;
        var deployed = await node.MoteyAsync("service", "deploy", node.Blueprint("halffailed", blueprint));
        Assert.True(deployed.Code == 1, deployed.ToString());

        var rm = await node.MoteyAsync("service", "rm", "halffailed");

        // rm waits until every image has ended, the failed one included, and a failed image is no failure of rm.
        Assert.True(rm.Code == 0, rm.ToString());
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(rm.Out, @"^service (\w+) \(halffailed\) is terminating\nservice \1 \(halffailed\) (is terminated|has ended; images that had failed before: .*)\n$"), rm.Out);
        var show = await node.MoteyAsync("service", "show", "halffailed");
        Assert.Matches(@"(?m)^1 +healthy +simulated +TERMINATED ", show.Out);
    }

    [Fact]
    public async Task Capabilities_add_ls_and_rm_change_the_nodes_capabilities_over_rest()
    {
        var add = await node.MoteyAsync("capabilities", "add", "lab");
        Assert.True(add.Code == 0, add.ToString());
        Assert.Equal("added lab (hardware)\n", add.Out);
        Assert.Equal("lab (hardware): the node has it already\n", (await node.MoteyAsync("capabilities", "add", "lab")).Out);
        Assert.Equal("added camera (sensor)\n", (await node.MoteyAsync("capabilities", "add", "camera", "--type", "sensor")).Out);

        var ls = await node.MoteyAsync("capabilities", "ls");
        Assert.Matches(@"^CAPABILITY +TYPE\n", ls.Out);
        Assert.Matches(@"(?m)^lab +hardware$", ls.Out);
        Assert.Matches(@"(?m)^camera +sensor$", ls.Out);
        Assert.Matches(@"(?m)^simulated +plugin$", ls.Out);

        var rm = await node.MoteyAsync("capabilities", "rm", "lab");
        Assert.True(rm.Code == 0, rm.ToString());
        Assert.Equal("removed lab (hardware)\n", rm.Out);
        Assert.Equal("lab (hardware): the node does not have it\n", (await node.MoteyAsync("capabilities", "rm", "lab")).Out);
        Assert.DoesNotMatch(@"(?m)^lab ", (await node.MoteyAsync("capabilities", "ls")).Out);
        Assert.DoesNotContain(JsonSerializer.Deserialize<List<Capability>>(await node.Agent.Client.GetStringAsync("/v1/capabilities"))!, c => c.Name == "lab");
    }

    [Fact]
    public async Task Nodes_and_plugins_print_tables_a_person_reads()
    {
        var nodes = await node.MoteyAsync("nodes");
        Assert.True(nodes.Code == 0, nodes.ToString());
        Assert.Matches(@"^ADDRESS +SELF +LAST SEEN\n", nodes.Out);
        Assert.Matches($@"(?m)^{Address.Replace(".", @"\.")} +yes +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ$", nodes.Out);

        var plugins = await node.MoteyAsync("plugins");
        Assert.True(plugins.Code == 0, plugins.ToString());
        Assert.Matches(@"^NAME +TYPE +STATE +VERSION +LOADED +ENGINE +LAST RELOAD +PROBLEM\n", plugins.Out);
        Assert.Matches(@"(?m)^Motey\.Val\.Simulated +simulated +Active +\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +available +-$", plugins.Out);
        Assert.Matches(@"(?m)^Motey\.Val\.Process +process +Active ", plugins.Out);

        // Nothing changed in the folder: the rescan reloads nothing and prints the same table.
        var rescan = await node.MoteyAsync("plugins", "rescan");
        Assert.True(rescan.Code == 0, rescan.ToString());
        Assert.Matches(@"(?m)^Motey\.Val\.Simulated +simulated +Active +\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +available +-$", rescan.Out);
    }

    [Fact]
    public async Task A_node_that_does_not_answer_exits_3()
    {
        var port = Ports.Free(Address);

        var result = await MoteyCli.RunAsync(["service", "ls", "--url", $"http://{Address}:{port}"]);

        Assert.Equal(3, result.Code);
        Assert.StartsWith($"motey: the node at http://{Address}:{port} does not answer: Connection refused", result.Error);
    }

    [Fact]
    public async Task Bad_usage_exits_2_without_asking_the_node()
    {
        var result = await node.MoteyAsync("service", "deploy");

        Assert.Equal(2, result.Code);
        Assert.Contains("motey: Required argument 'FILE' missing", result.Error);
        Assert.Contains("usage: motey", result.Error);
    }
}
