using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// Answers as a node of the original Motey gives them, from real REP sockets: capabilities keyed <c>type</c> (its
/// repository stores <c>{"capability", "type"}</c>), <c>null</c> when it has none. They are read, placement uses them,
/// and an answer that cannot be read is called unreadable, never "did not answer".
/// </summary>
public sealed class OriginalNodeTests : IAsyncLifetime
{
    private PeerNode _asker = null!;

    public async Task InitializeAsync() =>
        _asker = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = "2" });

    public async Task DisposeAsync() => await _asker.DisposeAsync();

    [Fact]
    public async Task Capabilities_keyed_type_are_read_as_capability_types()
    {
        await using var original = new OriginalNode("""[{"capability": "x", "type": "hardware"}]""");

        var capabilities = await _asker.Peers.For(original.Address).GetCapabilitiesAsync(CancellationToken.None);

        Assert.Equal([new Capability("x", "hardware")], capabilities);
    }

    [Fact]
    public async Task Null_is_an_empty_capability_list()
    {
        await using var original = new OriginalNode("null");

        Assert.Empty(await _asker.Peers.For(original.Address).GetCapabilitiesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Extra_fields_are_ignored_and_capability_type_wins_over_type()
    {
        await using var original = new OriginalNode("""[{"capability": "x", "capability_type": "hardware", "type": "other", "doc_id": 7}]""");

        Assert.Equal([new Capability("x", "hardware")], await _asker.Peers.For(original.Address).GetCapabilitiesAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"capability": "x", "type": "hardware"}""", "expected a list of capabilities")]
    [InlineData("""[{"capability": "x"}]""", "item 0 is not")]
    [InlineData("""[{"capability": 7, "type": "hardware"}]""", "item 0 is not")]
    [InlineData("capabilities: x", "not JSON")]
    public async Task An_answer_that_cannot_be_read_is_called_unreadable_with_a_preview_and_not_a_missing_answer(string answer, string why)
    {
        await using var original = new OriginalNode(answer);

        var error = await Assert.ThrowsAsync<PeerException>(() => _asker.Peers.For(original.Address).GetCapabilitiesAsync(CancellationToken.None));

        Assert.IsNotType<PeerTimeoutException>(error);
        Assert.StartsWith($"node {original.Address} gave an unreadable answer to the capabilities request (", error.Message);
        Assert.Contains(why, error.Message);
        Assert.EndsWith($"'{answer}'", error.Message);
        Assert.DoesNotContain("did not answer", error.Message);
    }

    [Fact]
    public async Task An_original_node_cannot_tell_an_exit_code_so_it_stays_unknown()
    {
        await using var original = new OriginalNode("""[{"capability": "x", "type": "hardware"}]""");

        var image = new Image { Id = OriginalNode.InstanceId, Name = "busybox", Engine = "docker" };
        var exitCode = await _asker.Peers.For(original.Address).GetExitCodeAsync(image, CancellationToken.None);

        Assert.Null(exitCode);
    }

    [Fact]
    public async Task An_image_only_an_original_node_can_run_is_placed_on_it_by_a_node_that_lacks_what_it_needs()
    {
        using var folder = new TestFolder();
        // The Docker VAL is loaded so that a docker image is a valid blueprint here; this node still lacks capability x.
        await using var node = await TestNode.StartAsync(folder, [TestNode.Docker, TestNode.Simulated]);
        // As the original's VAL manager stores it: its plugin as a capability of type plugin, beside the operator's x.
        await using var original = new OriginalNode("""[{"capability": "docker", "type": "plugin"}, {"capability": "x", "type": "hardware"}]""");
        await JoinAsync(node, original);

        var created = await PostAsync(node, "service_name: on-original\nimages:\n- name: busybox\n  engine: docker\n  capabilities: [x]\n");

        var running = await node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var image = running.Images.Single();
        Assert.Equal(original.Address, image.Node);
        Assert.Equal(OriginalNode.InstanceId, image.Id);
        Assert.Equal("busybox", JsonDocument.Parse(Assert.Single(original.Deploys)).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task An_original_node_that_answers_null_lacks_what_the_image_needs_and_is_not_reported_as_silent()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        await using var original = new OriginalNode("null");
        await JoinAsync(node, original);

        var created = await PostAsync(node, "service_name: nowhere\nimages:\n- name: x\n  engine: simulated\n  capabilities: [x]\n");

        var waiting = await WaitUntilWaitingAsync(node, created);
        Assert.Contains("none of the 1 other known nodes has all of them", waiting.StateMessage);
        Assert.DoesNotContain("could not be asked", waiting.StateMessage);
        Assert.DoesNotContain("did not answer", waiting.StateMessage);
    }

    [Fact]
    public async Task An_original_node_with_an_unreadable_answer_is_named_unreadable_in_the_images_message()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        await using var original = new OriginalNode("""{"x": "hardware"}""");
        await JoinAsync(node, original);

        var created = await PostAsync(node, "service_name: nowhere\nimages:\n- name: x\n  engine: simulated\n  capabilities: [x]\n");

        var waiting = await WaitUntilWaitingAsync(node, created);
        Assert.Contains($"node {original.Address} gave an unreadable answer to the capabilities request", waiting.StateMessage);
        Assert.Contains("""'{"x": "hardware"}'""", waiting.StateMessage);
        Assert.DoesNotContain("did not answer", waiting.StateMessage);
    }

    /// <summary>The original announces itself on the register topic; the node lists it once it heard that.</summary>
    private static async Task JoinAsync(TestNode node, OriginalNode original)
    {
        await Wait.UntilAsync(async () => await node.Client.GetStringAsync("/healthz") == "Healthy", "the node has joined its embedded broker");
        await original.RegisterAsync(node.Address);
        await Wait.UntilAsync(async () => (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!
            .Any(n => n.GetProperty("ip").GetString() == original.Address), "the node lists the original node");
    }

    /// <summary>An image no node can run waits INITIAL, its message saying why.</summary>
    private static Task<Service> WaitUntilWaitingAsync(TestNode node, Service created) =>
        node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));

    private static async Task<Service> PostAsync(TestNode node, string yaml)
    {
        var response = await node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }
}
