using System.Net;
using System.Net.Http.Json;
using Motey.Abstractions;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Orchestration;

/// <summary>A service on the process VAL: a real OS process is started and stopped through the REST API.</summary>
public sealed class ProcessLifecycleTests
{
    [Fact]
    public async Task Post_runs_the_process_and_delete_ends_it()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Process]);
        var response = await node.PostBlueprintAsync("""
            service_name: sleeper
            images:
            - name: sleep
              engine: process
              parameters: {args: [300]}
            """);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<Service>())!;

        var running = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var pid = int.Parse(running.Images.Single().Id.Split('-')[0]);
        Assert.True(Directory.Exists($"/proc/{pid}"), "the process runs");
        Assert.Contains("sleep", File.ReadAllText($"/proc/{pid}/cmdline"));

        Assert.Equal(HttpStatusCode.Accepted, (await node.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        var terminated = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
        Assert.Equal(ImageState.Terminated, terminated.Images.Single().State);
        await Wait.UntilAsync(() => !IsAlive(pid), "the process is gone");
    }

    [Fact]
    public async Task A_process_that_exits_on_its_own_turns_the_service_to_error()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Process]);
        var created = (await (await node.PostBlueprintAsync("service_name: brief\nimages:\n- name: sh\n  engine: process\n  parameters: {args: ['-c', 'sleep 0.3']}\n"))
            .Content.ReadFromJsonAsync<Service>())!;
        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        Assert.Contains("stopped outside", failed.StateMessage);
    }

    [Fact]
    public async Task An_executable_that_does_not_exist_makes_the_service_error_with_its_name()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Process]);
        var created = (await (await node.PostBlueprintAsync("service_name: ghost\nimages:\n- name: /nonexistent/ghost-binary\n  engine: process\n"))
            .Content.ReadFromJsonAsync<Service>())!;
        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        Assert.Contains("ghost-binary", failed.StateMessage);
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
