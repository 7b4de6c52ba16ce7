using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests;

/// <summary>The agent as a user runs it: its own process, its config.ini, its port, kill -9 included.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class AgentTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-e2e-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public async Task The_agent_starts_with_its_shipped_plugins_and_serves_the_api_on_its_port()
    {
        await using var agent = AgentProcess.Start(_folder);
        await agent.WaitHealthyAsync();
        var plugins = await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins");
        Assert.Contains(plugins!, p => p.GetProperty("type").GetString() == "process" && p.GetProperty("state").GetString() == "Active");
        Assert.Contains(plugins!, p => p.GetProperty("type").GetString() == "simulated" && p.GetProperty("state").GetString() == "Active");
        var capabilities = await agent.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities");
        Assert.Contains(new Capability("process", "plugin"), capabilities!);
        Assert.True(File.Exists(Path.Combine(_folder, "data", "motey.db")), "the database lives beside config.ini");
        Assert.True(File.Exists(Path.Combine(_folder, "logs", "motey.log")) || Directory.GetFiles(Path.Combine(_folder, "logs")).Length > 0, "the log file lives beside config.ini");
    }

    [Fact]
    public async Task Sigterm_stops_the_agent_cleanly_and_withdraws_its_plugin_capabilities()
    {
        var agent = AgentProcess.Start(_folder);
        await agent.WaitHealthyAsync();
        agent.Terminate();
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await agent.DisposeAsync();

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "data", "motey.db")};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM capabilities WHERE type = 'plugin'";
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task After_kill_9_the_restarted_agent_keeps_its_services_and_does_not_start_them_twice()
    {
        var agent = AgentProcess.Start(_folder, settings: new Dictionary<string, string> { ["PROCESS:allowed_executables"] = "/bin/sleep, /usr/bin/sleep" });
        await agent.WaitHealthyAsync();
        var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of("""
            service_name: survivor
            images:
            - name: sleep
              engine: process
              parameters: {args: [300]}
            """));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<Service>())!.Id;
        var running = await agent.WaitForServiceAsync(id, ServiceState.Running);
        var instance = running.Images.Single().Id;
        agent.Kill();
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await agent.DisposeAsync();

        await using var restarted = agent.Restart();
        await restarted.WaitHealthyAsync();
        var services = (await restarted.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!;
        var survivor = Assert.Single(services);
        Assert.Equal(id, survivor.Id);
        Assert.Equal(instance, survivor.Images.Single().Id);
        // A few reconcile passes later it is still the same single instance, and running.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var after = await restarted.WaitForServiceAsync(id, ServiceState.Running);
        Assert.Equal(instance, after.Images.Single().Id);
        Assert.Single(SleepProcesses());

        Assert.Equal(HttpStatusCode.Accepted, (await restarted.Client.DeleteAsync($"/v1/service/{id}")).StatusCode);
        await restarted.WaitForServiceAsync(id, ServiceState.Terminated);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (SleepProcesses().Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Empty(SleepProcesses());
    }

    [Fact]
    [Trait(Categories.Name, Categories.Docker)]
    public async Task After_kill_9_the_restarted_agent_adopts_its_docker_container()
    {
        var agent = AgentProcess.Start(_folder);
        await agent.WaitHealthyAsync();
        var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of("""
            service_name: boxed
            images:
            - name: motey/busybox:local
              engine: docker
              parameters: {command: [sleep, "300"], network_mode: none}
            """));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<Service>())!.Id;
        var container = (await agent.WaitForServiceAsync(id, ServiceState.Running)).Images.Single().Id;

        agent.Kill();
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await agent.DisposeAsync();
        await using var restarted = agent.Restart();
        await restarted.WaitHealthyAsync();

        await Task.Delay(TimeSpan.FromSeconds(1));  // several reconcile passes
        var service = await restarted.WaitForServiceAsync(id, ServiceState.Running);
        Assert.Equal(container, service.Images.Single().Id);
        Assert.Equal([container], await DockerContainersAsync(id));

        await restarted.Client.DeleteAsync($"/v1/service/{id}");
        await restarted.WaitForServiceAsync(id, ServiceState.Terminated);
        Assert.Empty(await DockerContainersAsync(id));
    }

    /// <summary>Ids of the containers (running or not) labelled with the service id, from the engine itself.</summary>
    private static async Task<List<string>> DockerContainersAsync(string serviceId) =>
        (await LocalDocker.ContainersAsync($"{InstanceLabels.ServiceId}={serviceId}")).Select(c => c.Id).ToList();

    [Fact]
    public async Task An_invalid_config_value_stops_the_start_naming_section_and_key()
    {
        File.WriteAllText(Path.Combine(_folder, "config.ini"), "[WEBSERVER]\nport = eighty\n");
        await using var agent = AgentProcess.StartRaw(_folder, "127.0.0.1", 0, "run", "--config", Path.Combine(_folder, "config.ini"));
        Assert.Equal(2, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("[WEBSERVER] port = 'eighty' is invalid", agent.Output);
    }

    [Fact]
    public async Task An_unknown_command_prints_the_usage_and_exits_2()
    {
        await using var agent = AgentProcess.StartRaw(_folder, "127.0.0.1", 0, "frobnicate");
        Assert.Equal(2, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("usage: motey", agent.Output);
    }

    /// <summary>Live `sleep 300` processes started by this test's agent (their environment names the agent's folder).</summary>
    private List<int> SleepProcesses()
    {
        var pids = new List<int>();
        foreach (var pid in ProcFsProbe.Pids())
        {
            try
            {
                var cmdline = ProcFsProbe.CommandLine(pid);
                if (!ProcFsProbe.IsAlive(pid)) continue;
                if (cmdline.Count >= 2 && cmdline[0].EndsWith("sleep") && cmdline[1] == "300"
                    && ProcFsProbe.Environment(pid).Any(variable => variable.Contains(_folder)))
                    pids.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }
}
