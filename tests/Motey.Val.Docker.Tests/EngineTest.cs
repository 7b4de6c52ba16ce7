using Docker.DotNet;
using Docker.DotNet.Models;
using Motey.Abstractions;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// A test against the real engine: an active <see cref="DockerVal"/>, a client of the test's own for looking behind its
/// back, and a label unique to the test on everything it creates, so that afterwards — passed or failed — every
/// container it made is removed, and parallel tests never see each other's.
/// </summary>
public abstract class EngineTest : IAsyncLifetime
{
    /// <summary>The label (beside the agent's) that marks this test's containers.</summary>
    protected const string RunLabel = "test.run";

    protected DockerVal Val { get; } = new();

    /// <summary>The tests' own client of the engine.</summary>
    protected DockerClient Docker { get; private set; } = null!;

    /// <summary>Unique to this test: its containers' label value and name prefix.</summary>
    protected string Run { get; } = "motey-test-" + UniqueSuffix();

    public virtual async Task InitializeAsync()
    {
        Docker = await TestEngine.ConnectAsync();
        await Val.ActivateAsync(Context(Settings), default);
    }

    /// <summary>The VAL's <c>[DOCKER]</c> section: the test engine, and nothing beyond the container unless a test class allows it.</summary>
    protected virtual Dictionary<string, string?> Settings => new() { ["url"] = LocalDocker.Url };

    public virtual async Task DisposeAsync()
    {
        await Val.DeactivateAsync(default);
        if (Docker is null) return;
        var mine = await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RunLabel}={Run}"] = true } },
        });
        foreach (var container in mine)
        {
            await Docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true });
        }
        Docker.Dispose();
    }

    /// <summary>The agent's labels for an image of a service, plus this test's label.</summary>
    protected Dictionary<string, string> AgentLabels(string serviceId = "svc1", string index = "0") => new()
    {
        [InstanceLabels.ServiceId] = serviceId,
        [InstanceLabels.ImageIndex] = index,
        [InstanceLabels.Node] = "127.0.0.1",
        [RunLabel] = Run,
    };

    /// <summary>Creates a busybox instance through the VAL (network none: this engine has no bridge).</summary>
    protected Task<string> CreateAsync(string parametersJson = """{"command": ["sleep", "300"]}""", Dictionary<string, string>? labels = null)
    {
        var parameters = ParametersOf(parametersJson).ToDictionary();
        parameters.TryAdd("network_mode", ParametersOf("""{"n": "none"}""")["n"]);
        return Val.CreateInstanceAsync(new InstanceSpec(LocalDocker.Busybox, parameters, labels ?? AgentLabels()), default);
    }

    /// <summary>Creates and starts an instance.</summary>
    protected async Task<string> RunAsync(string parametersJson = """{"command": ["sleep", "300"]}""", Dictionary<string, string>? labels = null)
    {
        var id = await CreateAsync(parametersJson, labels);
        await Val.StartInstanceAsync(id, default);
        return id;
    }

    protected Task<ContainerInspectResponse> InspectAsync(string id) => Docker.Containers.InspectContainerAsync(id);

    protected Task WaitForStateAsync(string id, ImageState state, string what) =>
        Wait.UntilAsync(async () => await Val.GetInstanceStateAsync(id, default) == state, what, TimeSpan.FromSeconds(15));
}
