using System.Net;
using System.Net.Sockets;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>The four repliers on real sockets, in front of a real local node with the compiled Simulated VAL, asked frame by frame.</summary>
public sealed class PeerRepliersTests : IAsyncLifetime
{
    private const string OriginalImage = """{"id": "", "name": "busybox", "engine": "simulated", "parameters": {}, "capabilities": {}, "node": {}}""";

    private PeerNode _node = null!;

    public async Task InitializeAsync() => _node = await PeerNode.CreateAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task The_capabilities_replier_answers_an_empty_json_list_when_the_node_has_no_capabilities()
    {
        await using var bare = await PeerNode.CreateAsync(simulatedPlugin: false);
        await bare.StartRepliersAsync();

        Assert.Equal("[]", await RawPeer.AskAsync(bare.CapabilitiesEndpoint, ""));
    }

    [Fact]
    public async Task The_capabilities_replier_answers_the_node_capabilities_in_the_original_format()
    {
        await _node.Capabilities.AddAsync([new Capability("gpu", "hardware")]);
        await _node.StartRepliersAsync();

        var reply = await RawPeer.AskAsync(_node.CapabilitiesEndpoint, "");

        Assert.Equal("""[{"capability":"gpu","capability_type":"hardware"},{"capability":"simulated","capability_type":"plugin"}]""", reply);
    }

    [Fact]
    public async Task An_image_from_an_original_node_deploys_reports_running_and_terminates()
    {
        await _node.StartRepliersAsync();

        var id = await RawPeer.AskAsync(_node.DeployEndpoint, OriginalImage);
        Assert.NotEqual("", id);
        var deployed = OriginalImage.Replace("\"id\": \"\"", $"\"id\": \"{id}\"");
        await Wait.UntilAsync(async () => await RawPeer.AskAsync(_node.StatusEndpoint, deployed) == "2", "the status replier answers 2 (RUNNING)");

        Assert.Equal("", await RawPeer.AskAsync(_node.TerminateEndpoint, deployed));
        Assert.Equal("4", await RawPeer.AskAsync(_node.StatusEndpoint, deployed));
        Assert.Empty(await _node.Simulated.GetRunningInstancesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_deploy_with_labels_is_labelled_with_them_and_a_repeated_deploy_adopts_the_same_instance()
    {
        await _node.StartRepliersAsync();
        const string Request = """{"name": "busybox", "engine": "simulated", "labels": {"motey.service.id": "s1", "motey.image.index": "0", "motey.node": "elsewhere"}}""";

        var id = await RawPeer.AskAsync(_node.DeployEndpoint, Request);

        var instance = Assert.Single(await _node.Simulated.GetRunningInstancesAsync(CancellationToken.None));
        Assert.Equal(id, instance.Id);
        Assert.Equal("s1", instance.Labels[InstanceLabels.ServiceId]);
        Assert.Equal("0", instance.Labels[InstanceLabels.ImageIndex]);
        Assert.Equal(_node.Address, instance.Labels[InstanceLabels.Node]);
        Assert.Equal(id, await RawPeer.AskAsync(_node.DeployEndpoint, Request));
    }

    [Fact]
    public async Task Deploys_without_labels_each_start_a_new_instance_labelled_with_this_node()
    {
        await _node.StartRepliersAsync();

        var first = await RawPeer.AskAsync(_node.DeployEndpoint, OriginalImage);
        var second = await RawPeer.AskAsync(_node.DeployEndpoint, OriginalImage);

        Assert.NotEqual(first, second);
        var instances = await _node.Simulated.GetRunningInstancesAsync(CancellationToken.None);
        Assert.Equal(2, instances.Count);
        Assert.All(instances, i => Assert.Equal(_node.Address, i.Labels[InstanceLabels.Node]));
    }

    [Theory]
    [InlineData("""{"name": "busybox", "engine": "nope"}""", "engine 'nope' has no active plugin")]
    [InlineData("""{"name": "busybox", "engine": "simulated", "parameters": {"colour": "red"}}""", "parameters.colour: unknown parameter")]
    public async Task A_deploy_that_fails_answers_an_empty_id_and_logs_the_reason(string request, string reason)
    {
        await _node.StartRepliersAsync();

        Assert.Equal("", await RawPeer.AskAsync(_node.DeployEndpoint, request));
        Assert.True(_node.Logs.Contains(reason), string.Join("\n", _node.Logs.Lines));
    }

    /// <summary>Only our nodes send labels, and they read "error: reason": the node that placed the image shows it.</summary>
    [Theory]
    [InlineData("""{"name": "busybox", "engine": "nope", "labels": {}}""", "error: engine 'nope' has no active plugin on node ")]
    [InlineData("""{"name": "busybox", "engine": "simulated", "parameters": {"colour": "red"}, "labels": {"motey.service.id": "s1", "motey.image.index": "0"}}""",
        "error: parameters.colour: unknown parameter")]
    public async Task A_deploy_that_fails_for_a_request_with_labels_answers_the_reason(string request, string reply)
    {
        await _node.StartRepliersAsync();

        Assert.StartsWith(reply, await RawPeer.AskAsync(_node.DeployEndpoint, request));
        Assert.Empty(await _node.Simulated.GetRunningInstancesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_status_of_an_image_whose_engine_is_not_here_is_5()
    {
        await _node.StartRepliersAsync();

        Assert.Equal("5", await RawPeer.AskAsync(_node.StatusEndpoint, """{"id": "abc", "name": "busybox", "engine": "nope"}"""));
    }

    [Fact]
    public async Task A_terminate_that_fails_answers_error_with_the_reason()
    {
        await _node.StartRepliersAsync();

        var reply = await RawPeer.AskAsync(_node.TerminateEndpoint, """{"id": "abc", "name": "busybox", "engine": "nope"}""");

        Assert.Equal($"error: engine 'nope' has no active plugin on node {_node.Address}", reply);
    }

    public static TheoryData<string, string, byte[][], string> MalformedRequests()
    {
        var data = new TheoryData<string, string, byte[][], string>();
        (string Kind, byte[][] Frames, string Reason)[] malformed =
        [
            ("invalid JSON", [RawPeer.Utf8("{\"name\": ")], "not valid JSON"),
            ("not an object", [RawPeer.Utf8("[1, 2]")], "expected an image as a JSON object, found an array"),
            ("missing engine", [RawPeer.Utf8("""{"id": "abc", "name": "busybox"}""")], "engine: required property is missing"),
            ("wrong type", [RawPeer.Utf8("""{"id": "abc", "name": 5, "engine": "simulated"}""")], "name: expected a non-empty string, found a number"),
            ("bad labels", [RawPeer.Utf8("""{"id": "abc", "name": "x", "engine": "simulated", "labels": {"a": 1}}""")], "labels.a: expected a string"),
            ("empty", [[]], "the request is empty"),
            ("multi-frame", [RawPeer.Utf8("{}"), RawPeer.Utf8("{}")], "the message has 2 frames"),
            ("non-UTF-8", [[0x7b, 0xff, 0x7d]], "not valid UTF-8"),
        ];
        foreach (var (kind, frames, reason) in malformed)
        {
            data.Add("capabilities", kind, frames, "");
            data.Add("deploy", kind, frames, reason);
            data.Add("status", kind, frames, reason);
            data.Add("terminate", kind, frames, reason);
        }
        data.Add("status", "missing id", [RawPeer.Utf8("""{"name": "busybox", "engine": "simulated"}""")], "id: the instance id is required");
        data.Add("terminate", "missing id", [RawPeer.Utf8("""{"id": "", "name": "busybox", "engine": "simulated"}""")], "id: the instance id is required");
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Every_replier_answers_a_malformed_request_as_its_contract_says_and_keeps_answering(string replier, string kind, byte[][] frames, string reason)
    {
        await _node.StartRepliersAsync();
        var endpoint = replier switch
        {
            "capabilities" => _node.CapabilitiesEndpoint,
            "deploy" => _node.DeployEndpoint,
            "status" => _node.StatusEndpoint,
            _ => _node.TerminateEndpoint,
        };

        var reply = await RawPeer.AskAsync(endpoint, frames);

        switch (replier)
        {
            case "capabilities":
                Assert.NotNull(CapabilityReply.Read(reply));
                Assert.NotEmpty((await RawPeer.AskAsync(endpoint, OriginalImage)));
                return;  // any request is a capabilities request
            case "deploy":
                Assert.Equal("", reply);
                Assert.NotEqual("", await RawPeer.AskAsync(endpoint, OriginalImage));
                break;
            case "status":
                Assert.Equal("5", reply);
                Assert.Equal("4", await RawPeer.AskAsync(endpoint, """{"id": "gone", "name": "busybox", "engine": "simulated"}"""));
                break;
            default:
                Assert.StartsWith("error: ", reply);
                Assert.Contains(reason, reply);
                Assert.Equal("", await RawPeer.AskAsync(endpoint, """{"id": "gone", "name": "busybox", "engine": "simulated"}"""));
                break;
        }
        Assert.True(_node.Logs.Contains(reason), $"the log gives the reason for the {kind} request: {reason}");
    }

    [Fact]
    public async Task Slow_deploys_hold_up_neither_each_other_nor_the_other_repliers()
    {
        var gated = new GatedNode(_node.Local);
        await _node.StartRepliersAsync(gated);
        const string Slow = """{"name": "slow", "engine": "simulated"}""";

        var slowDeploys = new[] { RawPeer.AskAsync(_node.DeployEndpoint, Slow), RawPeer.AskAsync(_node.DeployEndpoint, Slow) };
        await Wait.UntilAsync(() => gated.SlowDeploysWaiting == 2, "both slow deploys are in progress at once");

        Assert.NotNull(CapabilityReply.Read(await RawPeer.AskAsync(_node.CapabilitiesEndpoint, "")));
        var quick = await RawPeer.AskAsync(_node.DeployEndpoint, OriginalImage);
        Assert.NotEqual("", quick);
        Assert.Equal("4", await RawPeer.AskAsync(_node.StatusEndpoint, """{"id": "gone", "name": "busybox", "engine": "simulated"}"""));
        Assert.All(slowDeploys, t => Assert.False(t.IsCompleted));

        gated.ReleaseDeploys();
        var ids = await Task.WhenAll(slowDeploys);
        Assert.All(ids, id => Assert.NotEqual("", id));
        Assert.Equal(3, new[] { quick, ids[0], ids[1] }.Distinct().Count());
    }

    [Fact]
    public async Task Repliers_on_an_address_that_is_not_on_this_host_fail_to_start_naming_the_endpoint()
    {
        // Beyond loopback a node needs the cluster key (config.ini refuses it plain) and local capability events.
        using var keys = new TestFolder();
        var key = Path.Combine(keys.Path, "cluster.key");
        ClusterKey.Generate().Write(key, force: false);
        await using var stranger = await PeerNode.CreateAsync(simulatedPlugin: false, address: "192.0.2.1",  // TEST-NET-1: never local
            settings: new Dictionary<string, string> { ["ZEROMQ:cluster_key"] = key, ["ZEROMQ:capability_engine_ipc_path"] = "tcp://127.0.0.1:5090" });

        var error = await Assert.ThrowsAsync<PeerBindException>(() => stranger.StartRepliersAsync());

        Assert.Equal("cannot bind the capabilities replier on tcp://192.0.2.1:5091: the address is not one of this host's addresses", error.Message);
        Assert.True(stranger.Logs.Contains("tcp://192.0.2.1:5091"));
    }

    [Fact]
    public async Task Repliers_on_a_port_in_use_fail_to_start_naming_the_endpoint_and_free_the_ports_they_had_bound()
    {
        var blocker = new TcpListener(IPAddress.Parse(_node.Address), _node.Settings.ZeroMq.ImageStatusReplier);
        blocker.Start();
        try
        {
            var repliers = _node.CreateRepliers();
            var error = await Assert.ThrowsAsync<PeerBindException>(() => repliers.StartAsync(CancellationToken.None));
            Assert.Equal($"cannot bind the image status replier on {_node.StatusEndpoint}: the address is already in use (another agent or program listens there)", error.Message);
        }
        finally
        {
            blocker.Stop();
        }

        await _node.StartRepliersAsync();
        Assert.NotNull(CapabilityReply.Read(await RawPeer.AskAsync(_node.CapabilitiesEndpoint, "")));
    }

    [Fact]
    public async Task Repliers_stopped_and_started_again_on_the_same_address_answer()
    {
        for (var round = 0; round < 3; round++)
        {
            await _node.StartRepliersAsync();
            Assert.NotNull(CapabilityReply.Read(await RawPeer.AskAsync(_node.CapabilitiesEndpoint, "")));
            await _node.StopRepliersAsync();
        }
    }
}
