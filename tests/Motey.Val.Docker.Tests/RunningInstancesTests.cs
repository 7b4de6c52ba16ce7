using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// How the agent finds its instances again after a restart. Other tests run beside these, so the listing is checked
/// for this test's containers only (by their ids and labels), never for an exact count.
/// </summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class RunningInstancesTests : EngineTest
{
    [Fact]
    public async Task Created_and_running_containers_are_listed_with_their_labels()
    {
        var createdLabels = AgentLabels("svc-created", "0");
        var runningLabels = AgentLabels("svc-running", "1");
        var created = await CreateAsync(labels: createdLabels);
        var running = await RunAsync(labels: runningLabels);

        var listed = (await Val.GetRunningInstancesAsync(default)).Where(i => i.Labels.GetValueOrDefault(RunLabel) == Run).ToList();

        Assert.Equal(new[] { created, running }.Order(StringComparer.Ordinal), listed.Select(i => i.Id).Order(StringComparer.Ordinal));
        foreach (var (id, labels) in new[] { (created, createdLabels), (running, runningLabels) })
        {
            var instance = listed.Single(i => i.Id == id);
            Assert.Equal(LocalDocker.Busybox, instance.ImageName);
            foreach (var (key, value) in labels) Assert.Equal(value, instance.Labels[key]);
            Assert.Equal("true", instance.Labels["motey.managed"]);
        }
    }

    [Fact]
    public async Task Ended_containers_and_containers_not_made_by_motey_are_not_listed()
    {
        var stopped = await RunAsync();
        await Val.StopInstanceAsync(stopped, default);
        // A container someone else made on the same engine, carrying this test's label but not motey.managed.
        var foreign = await Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = LocalDocker.Busybox,
            Cmd = ["sleep", "300"],
            Labels = new Dictionary<string, string> { [RunLabel] = Run, [InstanceLabels.ServiceId] = "not-ours" },
            HostConfig = new HostConfig { NetworkMode = "none", Init = true },
        });
        await Docker.Containers.StartContainerAsync(foreign.ID, new ContainerStartParameters());
        var listedAlone = await RunAsync();

        var listed = await Val.GetRunningInstancesAsync(default);

        Assert.Contains(listed, i => i.Id == listedAlone);
        Assert.DoesNotContain(listed, i => i.Id == stopped);
        Assert.DoesNotContain(listed, i => i.Id == foreign.ID);
    }

    [Fact]
    public async Task A_new_val_for_the_same_engine_sees_the_running_container_as_after_an_agent_restart()
    {
        var labels = AgentLabels("restarted", "0");
        var id = await RunAsync(labels: labels);
        await Val.DeactivateAsync(default);

        var restarted = new DockerVal();
        await restarted.ActivateAsync(TestSupport.Context(), default);

        var instance = Assert.Single(await restarted.GetRunningInstancesAsync(default), i => i.Id == id);
        Assert.Equal("restarted", instance.Labels[InstanceLabels.ServiceId]);
        Assert.Equal(ImageState.Running, await restarted.GetInstanceStateAsync(id, default));
        await restarted.DeactivateAsync(default);
    }
}
