using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Policy;

/// <summary>
/// The blueprint policy when another node asks this one to deploy (ZeroMQ, over a real socket): the request that breaks
/// a rule gets the refusal reply (an empty id), the log says why in the same words as a POST's 400, and nothing runs.
/// </summary>
public sealed class PeerPolicyTests : IAsyncLifetime
{
    private PeerNode _node = null!;

    public async Task InitializeAsync()
    {
        // A Docker engine that does not exist: had the policy let a request through, the log would say the engine is unreachable.
        var folder = Path.Combine(Path.GetTempPath(), $"motey-no-engine-{Guid.NewGuid():N}");
        _node = await PeerNode.CreateAsync(
            settings: new Dictionary<string, string> { ["DOCKER:url"] = $"unix://{folder}/docker.sock" },
            plugins: [TestNode.Docker, TestNode.Process]);
        await _node.StartRepliersAsync();
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Theory]
    [MemberData(nameof(PolicyRules.Each), MemberType = typeof(PolicyRules))]
    [MemberData(nameof(PolicyRules.EachNever), MemberType = typeof(PolicyRules))]
    public async Task A_peers_deploy_the_policy_forbids_is_refused_with_the_same_message_and_nothing_runs(PolicyRule rule)
    {
        var reply = await RawPeer.AskAsync(_node.DeployEndpoint, rule.DeployRequest());

        Assert.Equal("", reply);
        await _node.Logs.WaitForAsync($"for a peer: {rule.Refusal}");
        Assert.False(_node.Logs.Contains("not reachable"), "the refused deploy never reached the engine");
        var val = _node.Plugins.Find(rule.Engine)!;
        if (rule.Engine == "process") Assert.Empty(await val.GetRunningInstancesAsync(CancellationToken.None));
        // The node still answers deploys it allows: refusing is not failing.
        Assert.NotNull(CapabilityReply.Read(await RawPeer.AskAsync(_node.CapabilitiesEndpoint, "")));
    }

    [Theory]
    [MemberData(nameof(PolicyRules.Each), MemberType = typeof(PolicyRules))]
    public async Task One_of_our_nodes_asking_gets_the_refusal_itself_to_show_as_the_images_state_message(PolicyRule rule)
    {
        var request = rule.DeployRequest()[..^1] + """, "labels": {"motey.service.id": "s1", "motey.image.index": "0"}}""";

        Assert.Equal(PeerRepliers.ErrorPrefix + rule.Refusal, await RawPeer.AskAsync(_node.DeployEndpoint, request));
        if (rule.Engine == "process") Assert.Empty(await _node.Plugins.Find("process")!.GetRunningInstancesAsync(CancellationToken.None));
    }
}

/// <summary>
/// The same against the real Docker engine: a peer's request for a privileged container is refused and no container
/// appears, while the same image without it runs.
/// </summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class PeerPolicyEngineTests : IAsyncLifetime
{
    private readonly Docker.DotNet.DockerClient _docker = new Docker.DotNet.DockerClientConfiguration(new Uri(LocalDocker.Url)).CreateClient();
    private PeerNode _node = null!;

    public async Task InitializeAsync()
    {
        await LocalDocker.RequireAsync();
        _node = await PeerNode.CreateAsync(settings: new Dictionary<string, string> { ["DOCKER:url"] = LocalDocker.Url }, plugins: [TestNode.Docker]);
        await _node.StartRepliersAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var container in await ContainersAsync())
            await _docker.Containers.RemoveContainerAsync(container.ID, new Docker.DotNet.Models.ContainerRemoveParameters { Force = true });
        await _node.DisposeAsync();
        _docker.Dispose();
    }

    [Fact]
    public async Task A_peers_privileged_deploy_creates_no_container_and_the_same_image_without_it_runs()
    {
        static string Image(string extra) =>
            $$$"""{"name": "{{{PolicyRules.Busybox}}}", "engine": "docker", "parameters": {"command": ["sleep", "300"], "network_mode": "none"{{{extra}}}}}""";

        Assert.Equal("", await RawPeer.AskAsync(_node.DeployEndpoint, Image(""", "privileged": true""")));
        await _node.Logs.WaitForAsync("for a peer: parameters.privileged: privileged containers are not allowed on this node");
        Assert.Empty(await ContainersAsync());

        var id = await RawPeer.AskAsync(_node.DeployEndpoint, Image(""));
        Assert.NotEqual("", id);
        Assert.Equal(id, Assert.Single(await ContainersAsync()).ID);
    }

    /// <summary>Every container this node created: the agent labels each with the node's own (unique) address.</summary>
    private async Task<IList<Docker.DotNet.Models.ContainerListResponse>> ContainersAsync() =>
        await _docker.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{Motey.Abstractions.InstanceLabels.Node}={_node.Address}"] = true },
            },
        });
}
