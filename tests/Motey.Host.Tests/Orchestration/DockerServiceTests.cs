using System.Net;
using System.Net.Http.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Orchestration;

/// <summary>
/// Services on the Docker VAL against the real engine (started by scripts/test-services.sh). The agent
/// reaches the engine through a socket proxy per test, so a test can take "the engine" away without
/// disturbing the others.
/// </summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class DockerServiceTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new();
    private readonly DockerClient _docker = new DockerClientConfiguration(new Uri(LocalDocker.Url)).CreateClient();
    private EngineProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        await LocalDocker.RequireAsync();
        _proxy = new EngineProxy(Path.Combine(_folder.Path, "docker.sock"));
        _proxy.Start();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        // Whatever a failed test left behind: every container labelled with this test's folder.
        foreach (var c in await ContainersAsync(all: true)) await _docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
        _docker.Dispose();
        _folder.Dispose();
    }

    private Task<TestNode> StartNodeAsync() => TestNode.StartAsync(_folder, [TestNode.Docker],
        new Dictionary<string, string> { ["DOCKER:url"] = _proxy.Url, ["DOCKER:stop_timeout"] = "2" });

    private static string Blueprint(string name, string extra = "") => $$"""
        service_name: {{name}}
        images:
        - name: {{LocalDocker.Busybox}}
          engine: docker
          parameters: {command: [sleep, "300"], network_mode: none{{extra}}}
        """;

    /// <summary>Containers this test's agents created: the node label names the folder-unique service ids.</summary>
    private async Task<IList<ContainerListResponse>> ContainersAsync(bool all = false, string? serviceId = null) =>
        (await _docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = all,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [serviceId is null ? InstanceLabels.ServiceId : $"{InstanceLabels.ServiceId}={serviceId}"] = true },
            },
        })).Where(c => serviceId is not null || _services.Contains(c.Labels[InstanceLabels.ServiceId])).ToList();

    private readonly HashSet<string> _services = [];

    private async Task<Service> PostAsync(TestNode node, string yaml)
    {
        var response = await node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        _services.Add(service.Id);
        return service;
    }

    [Fact]
    public async Task A_blueprint_runs_as_a_labelled_container_and_delete_removes_it()
    {
        await using var node = await StartNodeAsync();
        var created = await PostAsync(node, Blueprint("web"));
        var running = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var instance = running.Images.Single().Id;

        var container = await _docker.Containers.InspectContainerAsync(instance);
        Assert.Equal("running", container.State.Status);
        Assert.Equal(created.Id, container.Config.Labels[InstanceLabels.ServiceId]);
        Assert.Equal("0", container.Config.Labels[InstanceLabels.ImageIndex]);
        Assert.Equal(node.Address, container.Config.Labels[InstanceLabels.Node]);

        Assert.Equal(HttpStatusCode.Accepted, (await node.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
        Assert.Empty(await ContainersAsync(all: true, serviceId: created.Id));
    }

    [Fact]
    public async Task A_container_killed_from_outside_is_replaced_under_the_default_policy_and_not_under_never()
    {
        await using var node = await StartNodeAsync();
        var phoenix = await PostAsync(node, Blueprint("phoenix"));
        var mortal = await PostAsync(node, Blueprint("mortal", ", restart_policy: never"));
        var first = (await node.WaitForServiceAsync(phoenix.Id, s => s.State == ServiceState.Running)).Images.Single().Id;
        var once = (await node.WaitForServiceAsync(mortal.Id, s => s.State == ServiceState.Running)).Images.Single().Id;

        await _docker.Containers.KillContainerAsync(first, new ContainerKillParameters());
        await _docker.Containers.KillContainerAsync(once, new ContainerKillParameters());

        var replaced = await node.WaitForServiceAsync(phoenix.Id, s => s.State == ServiceState.Running && s.Images.Single().Id != first);
        Assert.Equal(1, replaced.Images.Single().Restarts);
        Assert.Equal("running", (await _docker.Containers.InspectContainerAsync(replaced.Images.Single().Id)).State.Status);
        Assert.Single(await ContainersAsync(all: true, serviceId: phoenix.Id));  // the killed one was removed

        var dead = await node.WaitForServiceAsync(mortal.Id, s => s.State == ServiceState.Error);
        Assert.Contains("exit code 137; not restarted (restart policy never)", dead.StateMessage);
        Assert.Equal(once, dead.Images.Single().Id);
    }

    [Fact]
    public async Task A_restarted_agent_adopts_its_containers_instead_of_starting_new_ones()
    {
        string serviceId, instance;
        await using (var node = await StartNodeAsync())
        {
            var created = await PostAsync(node, Blueprint("steady"));
            serviceId = created.Id;
            instance = (await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running)).Images.Single().Id;
        }
        await using (var restarted = await StartNodeAsync())
        {
            var service = await restarted.WaitForServiceAsync(serviceId, s => s.State == ServiceState.Running);
            Assert.Equal(instance, service.Images.Single().Id);
            await Task.Delay(TimeSpan.FromSeconds(1));  // several reconcile passes
            Assert.Single(await ContainersAsync(all: true, serviceId: serviceId));
            Assert.Equal(ServiceState.Running, (await restarted.GetServiceAsync(serviceId)).State);
        }
    }

    [Fact]
    public async Task The_docker_capability_follows_the_engine_and_the_agent_stays_healthy()
    {
        await using var node = await StartNodeAsync();
        var docker = new Capability("docker", Capability.PluginType);
        async Task<bool> HasDocker() => (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!.Contains(docker);
        Assert.True(await HasDocker());

        _proxy.Stop();
        await Wait.UntilAsync(async () => !await HasDocker(), "the docker capability is withdrawn");
        Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);
        var plugins = await node.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/plugins");
        var plugin = plugins!.Single(p => p.GetProperty("type").GetString() == "docker");
        Assert.Contains(_proxy.Path, plugin.GetProperty("engine_problem").GetString());
        var waiting = await PostAsync(node, Blueprint("while-down"));
        Assert.Contains("engine 'docker'", (await node.WaitForServiceAsync(waiting.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal))).StateMessage);

        _proxy.Start();
        await Wait.UntilAsync(HasDocker, "the docker capability is registered again");
        // The image that waited for the engine runs once it is back, without another POST.
        await node.WaitForServiceAsync(waiting.Id, s => s.State == ServiceState.Running);
        var accepted = await PostAsync(node, Blueprint("after"));
        await node.WaitForServiceAsync(accepted.Id, s => s.State == ServiceState.Running);
    }

    [Fact]
    public async Task An_image_that_cannot_be_pulled_makes_the_service_error_with_the_engine_reason()
    {
        await using var node = await StartNodeAsync();
        var created = await PostAsync(node, "service_name: ghost\nimages:\n- name: motey-test/definitely-missing:1\n  engine: docker\n  parameters: {network_mode: none}\n");
        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error, TimeSpan.FromSeconds(120));
        Assert.Contains("motey-test/definitely-missing", failed.StateMessage);
        Assert.Empty(await ContainersAsync(all: true, serviceId: created.Id));
    }

    [Fact]
    public async Task A_privileged_blueprint_on_a_node_that_does_not_allow_it_ends_in_error_naming_the_setting_and_no_container_exists()
    {
        await using var node = await StartNodeAsync();
        // Accepted: another node may allow privileged containers. This one, alone, refuses it where it would run it.
        var created = await PostAsync(node, Blueprint("privileged", ", privileged: true"));

        var failed = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        Assert.Contains($"deploy on {node.Address} failed: parameters.privileged: privileged containers are not allowed on this node; "
            + "[DOCKER] allow_privileged = true allows them", failed.Images.Single().StateMessage);
        Assert.Empty(await ContainersAsync(all: true, serviceId: created.Id));
    }

    [Fact]
    public async Task Unknown_docker_parameters_are_refused_at_post_naming_them()
    {
        await using var node = await StartNodeAsync();
        var response = await node.PostBlueprintAsync(Blueprint("typo", ", enviroment: {A: b}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("images[0].parameters.enviroment", await Api.ServiceApiTests.ProblemDetailAsync(response));
    }
}
