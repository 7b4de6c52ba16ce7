using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.EndToEnd.Tests.Reliability;

namespace Motey.EndToEnd.Tests.Container;

/// <summary>
/// The agent's container image, built as a machine without a registry builds it (deploy/container/build-local.sh), run
/// as the README says: host network, a mounted config.ini, the host's Docker socket with its group. The node answers,
/// runs a Docker blueprint as a sibling container at the host's engine, removes it, and stops cleanly on docker stop.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Docker)]
public sealed class AgentImageTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-image-").FullName;
    private readonly string _container = $"motey-image-test-{Guid.NewGuid():N}";
    private readonly List<string> _services = [];

    public async Task InitializeAsync()
    {
        await LocalDocker.RequireAsync();
        await AgentImage.EnsureBuiltAsync();
    }

    public async Task DisposeAsync()
    {
        // The agent's container with its anonymous volumes, then whatever the agent started and left.
        await AgentImage.DockerAsync("rm", "--force", "--volumes", _container);
        await Faults.RemoveContainersAsync(_services);
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public async Task The_image_runs_a_node_from_a_mounted_config_that_runs_a_docker_blueprint_through_the_mounted_socket_and_stops_cleanly()
    {
        var address = AgentProcess.NextAddress();
        var (config, port) = AgentProcess.WriteConfig(_folder, address, new Dictionary<string, string>
        {
            // Where the image keeps its state, its log and its pid file, as its own config.ini (deploy/config.ini) does.
            ["GENERAL:pid"] = "/run/motey/motey.pid",
            ["LOGGER:log_path"] = "/var/log/motey",
            ["DATABASE:path"] = "/var/lib/motey/motey.db",
            ["DOCKER:stop_timeout"] = "1",
        });
        // The agent's user (uid 1654) must read it; it holds no password, so it may be readable by all.
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var (statCode, socketGroup) = await AgentImage.CommandAsync("stat", "-c", "%g", LocalDocker.SocketPath);
        Assert.True(statCode == 0, socketGroup);

        var (code, output) = await AgentImage.DockerAsync("run", "--detach", "--name", _container, "--network", "host",
            "--group-add", socketGroup.Trim(), "--volume", $"{LocalDocker.SocketPath}:/var/run/docker.sock",
            "--volume", $"{config}:/etc/motey/config.ini:ro", "--health-interval", "1s", "--stop-timeout", "30", AgentImage.Name);
        Assert.True(code == 0, $"docker run exited with {code}: {output}");
        string Logs() => AgentImage.Logs(_container);

        using var client = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await Wait.UntilAsync(async () =>
        {
            if (await StateAsync() is not "running") Assert.Fail($"the container is {await StateAsync()}:\n{Logs()}");
            try
            {
                using var heartbeat = await client.GetAsync("/v1/heartbeat");
                return heartbeat.StatusCode == HttpStatusCode.NoContent;
            }
            catch (HttpRequestException)
            {
                return false;  // not listening yet
            }
        }, $"the container's agent answers GET http://{address}:{port}/v1/heartbeat with 204", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), Logs);

        // Not root inside; the engine reached through the mounted socket, thanks to the socket's group.
        Assert.Equal("1654", (await AgentImage.DockerAsync("exec", _container, "id", "-u")).Output.Trim());
        await Wait.ForAsync(async () => (await client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!.Single(p => p.GetProperty("type").GetString() == "docker"),
            docker => docker.GetProperty("state").GetString() == "Active" && docker.GetProperty("engine_available").GetBoolean(),
            "the Docker plugin is Active with its engine available", docker => $"{docker}\n{Logs()}");
        // The image's HEALTHCHECK (motey status, reading the same mounted config.ini) finds it healthy.
        await Wait.UntilAsync(async () => (await AgentImage.DockerAsync("inspect", "--format", "{{.State.Health.Status}}", _container)).Output.Trim() == "healthy",
            "docker reports the container healthy", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250), Logs);

        using var posted = await client.PostAsync("/v1/service", YamlBody.Of("""
            service_name: from-the-image
            images:
            - name: motey/busybox:local
              engine: docker
              parameters: {command: [sleep, "300"], network_mode: none}
            """));
        Assert.True(posted.StatusCode == HttpStatusCode.Created, $"POST answered {(int)posted.StatusCode}: {await posted.Content.ReadAsStringAsync()}");
        var id = (await posted.Content.ReadFromJsonAsync<Service>())!.Id;
        _services.Add(id);
        var running = await WaitForServiceAsync(client, id, ServiceState.Running, Logs);
        var started = Assert.Single(await LocalDocker.ContainersAsync($"{InstanceLabels.ServiceId}={id}"));
        Assert.Equal(running.Images.Single().Id, started.Id);
        Assert.Equal("running", started.State);
        Assert.Equal(address, started.Labels[InstanceLabels.Node]);

        using var deleted = await client.DeleteAsync($"/v1/service/{id}");
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await WaitForServiceAsync(client, id, ServiceState.Terminated, Logs);
        await Wait.UntilAsync(async () => (await LocalDocker.ContainersAsync($"{InstanceLabels.ServiceId}={id}")).Count == 0,
            "the service's container is gone from the engine", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), Logs);

        (code, output) = await AgentImage.DockerAsync("stop", "--time", "30", _container);
        Assert.True(code == 0, $"docker stop exited with {code}: {output}");
        // 0: the agent ended on SIGTERM by itself; killed at the stop timeout it would be 137.
        Assert.Equal("exited 0", (await AgentImage.DockerAsync("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", _container)).Output.Trim());
    }

    private async Task<string> StateAsync() =>
        (await AgentImage.DockerAsync("inspect", "--format", "{{.State.Status}}", _container)).Output.Trim();

    private static Task<Service> WaitForServiceAsync(HttpClient client, string id, ServiceState state, Func<string> logs) =>
        Wait.ForAsync(async () => (await client.GetFromJsonAsync<Service>($"/v1/service/{id}"))!, service => service.State == state,
            $"service {id} is {state}", service => $"it is {service.State} ({service.StateMessage})\n{logs()}",
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
}
