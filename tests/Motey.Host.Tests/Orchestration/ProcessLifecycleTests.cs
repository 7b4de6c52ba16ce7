using System.Net;
using System.Net.Http.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Orchestration;

/// <summary>A service on the process VAL: a real OS process is started and stopped through the REST API.</summary>
public sealed class ProcessLifecycleTests
{
    /// <summary>A node with the process VAL that may run the system's programs (sleep, sh), or <paramref name="executables"/>.</summary>
    private static Task<TestNode> StartAsync(TestFolder folder, string executables = "/bin, /usr/bin") =>
        TestNode.StartAsync(folder, [TestNode.Process], new Dictionary<string, string> { ["PROCESS:allowed_executables"] = executables });

    [Fact]
    public async Task Post_runs_the_process_and_delete_ends_it()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
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
        await Wait.UntilAsync(() => !ProcFsProbe.IsAlive(pid), "the process is gone");
    }

    [Fact]
    public async Task A_process_that_ends_with_exit_code_0_is_terminated_and_not_restarted_by_default()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var created = await PostAsync(node, "service_name: brief\nimages:\n- name: sh\n  engine: process\n  parameters: {args: ['-c', 'sleep 0.3']}\n");
        var ended = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
        Assert.Contains("exit code 0; not restarted (restart policy on-failure)", ended.StateMessage);
        Assert.Equal(0, ended.Images.Single().Restarts);
    }

    [Fact]
    public async Task A_failing_process_under_restart_policy_never_is_an_error_with_its_exit_code()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var created = await PostAsync(node, "service_name: failing\nimages:\n- name: sh\n  engine: process\n  parameters: {args: ['-c', 'sleep 0.3; exit 3'], restart_policy: never}\n");
        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        Assert.Contains("exit code 3; not restarted (restart policy never)", failed.StateMessage);
        Assert.Equal(0, failed.Images.Single().Restarts);
    }

    [Fact]
    public async Task A_process_killed_from_outside_is_replaced_under_the_default_policy()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var created = await PostAsync(node, "service_name: phoenix\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [300]}\n");
        var first = (await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running)).Images.Single();
        var pid = int.Parse(first.Id.Split('-')[0]);

        System.Diagnostics.Process.GetProcessById(pid).Kill();

        var replaced = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running && s.Images.Single().Id != first.Id);
        Assert.Equal(1, replaced.Images.Single().Restarts);
        Assert.True(ProcFsProbe.IsAlive(int.Parse(replaced.Images.Single().Id.Split('-')[0])));
        await Wait.UntilAsync(() => !ProcFsProbe.IsAlive(pid), "the killed process is gone");
        await node.Client.DeleteAsync($"/v1/service/{created.Id}");
        await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    [Fact]
    public async Task Restart_policy_always_replaces_even_a_process_that_succeeded_with_growing_backoff()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var created = await PostAsync(node, "service_name: loop\nimages:\n- name: sh\n  engine: process\n  parameters: {args: ['-c', 'sleep 0.2'], restart_policy: always}\n");
        var restarted = await node.WaitForServiceAsync(created.Id, s => s.Images.Single().Restarts >= 2);
        Assert.NotEqual(ServiceState.Error, restarted.State);
        await node.Client.DeleteAsync($"/v1/service/{created.Id}");
        var stopped = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
        var restarts = stopped.Images.Single().Restarts;
        // Terminated services are not restarted any more.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(restarts, (await node.GetServiceAsync(created.Id)).Images.Single().Restarts);
    }

    [Fact]
    public async Task An_invalid_restart_policy_is_refused_with_400()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder);
        var response = await node.PostBlueprintAsync("service_name: x\nimages:\n- name: sleep\n  engine: process\n  parameters: {restart_policy: sometimes}\n");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("images[0].parameters.restart_policy", await Api.ServiceApiTests.ProblemDetailAsync(response));
    }

    private static async Task<Service> PostAsync(TestNode node, string yaml)
    {
        var response = await node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    [Fact]
    public async Task An_executable_that_does_not_exist_makes_the_service_error_with_its_name()
    {
        using var folder = new TestFolder();
        await using var node = await StartAsync(folder, executables: "/nonexistent");
        var created = (await (await node.PostBlueprintAsync("service_name: ghost\nimages:\n- name: /nonexistent/ghost-binary\n  engine: process\n"))
            .Content.ReadFromJsonAsync<Service>())!;
        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        Assert.Contains("ghost-binary", failed.StateMessage);
    }
}
