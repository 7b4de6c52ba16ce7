using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Nodes;

/// <summary>This node reached in-process: what it asks of its VAL for a deploy, a stop or a state, and how a VAL that hangs is bounded.</summary>
public sealed class LocalNodeTests
{
    private const string Self = "10.0.0.1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly FakeVal _val = new();
    private readonly Dictionary<string, string> _labels = InstanceLabelSet.For("svc-1", 0, Self);

    private LocalNode NodeWith(TimeSpan callTimeout) =>
        new(new NodeIdentity(Self), new InMemoryCapabilityStore(), new FakeEngines(_val), new LocalNodeSettings(callTimeout));

    private LocalNode Node => NodeWith(TimeSpan.FromSeconds(5));

    private static Image Image(string engine = "fake", Dictionary<string, JsonElement>? parameters = null) =>
        new() { Name = "sensor", Engine = engine, Parameters = parameters ?? [] };

    [Fact]
    public async Task A_deploy_loads_a_missing_image_then_creates_and_starts_one_instance_with_the_labels()
    {
        var parameters = new Dictionary<string, JsonElement>
        {
            ["args"] = JsonSerializer.SerializeToElement("--fast"),
            [RestartPolicies.Key] = JsonSerializer.SerializeToElement("always"),
        };

        var id = await Node.DeployImageAsync(Image(parameters: parameters), _labels, CancellationToken.None);

        Assert.Equal(["sensor"], _val.Loaded);
        var created = Assert.Single(_val.Created);
        Assert.Equal(_labels, created.Labels);
        Assert.Equal(["args"], created.Parameters.Keys);
        Assert.Equal(ImageState.Running, _val.StateOf(id));
    }

    [Fact]
    public async Task An_image_already_on_the_node_is_not_loaded_again()
    {
        _val.Images.Add("sensor");

        await Node.DeployImageAsync(Image(), _labels, CancellationToken.None);

        Assert.Empty(_val.Loaded);
    }

    [Fact]
    public async Task A_deploy_adopts_the_instance_an_interrupted_deploy_started_instead_of_creating_a_second()
    {
        var existing = _val.Add(_labels, ImageState.Running);

        var id = await Node.DeployImageAsync(Image(), _labels, CancellationToken.None);

        Assert.Equal(existing, id);
        Assert.Empty(_val.Created);
        Assert.Equal(0, _val.Starts);
        Assert.Single(await _val.GetRunningInstancesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_deploy_starts_the_adopted_instance_when_an_interrupted_deploy_only_created_it()
    {
        var existing = _val.Add(_labels, ImageState.Initial);

        var id = await Node.DeployImageAsync(Image(), _labels, CancellationToken.None);

        Assert.Equal(existing, id);
        Assert.Empty(_val.Created);
        Assert.Equal(ImageState.Running, _val.StateOf(id));
    }

    [Fact]
    public async Task An_instance_of_another_image_of_the_service_is_not_adopted()
    {
        var other = _val.Add(InstanceLabelSet.For("svc-1", 1, Self), ImageState.Running);

        var id = await Node.DeployImageAsync(Image(), _labels, CancellationToken.None);

        Assert.NotEqual(other, id);
        Assert.Single(_val.Created);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_plugin_call_that_hangs_ends_with_an_error_naming_the_call_and_the_timeout(bool honoursCancellation)
    {
        _val.HangIn = nameof(IValPlugin.GetRunningInstancesAsync);
        _val.HonoursCancellation = honoursCancellation;

        var error = await Assert.ThrowsAsync<ValException>(
            () => NodeWith(TimeSpan.FromMilliseconds(200)).DeployImageAsync(Image(), _labels, CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal("the fake plugin did not list running instances within 0.2 s", error.Message);
        Assert.Empty(_val.Created);
    }

    [Fact]
    public async Task A_deploy_its_caller_cancels_is_cancelled_not_reported_as_a_plugin_timeout()
    {
        _val.HangIn = nameof(IValPlugin.CreateInstanceAsync);
        using var cancel = new CancellationTokenSource();

        var deploy = Node.DeployImageAsync(Image(), _labels, cancel.Token);
        await _val.Hanging.WaitAsync(Deadline);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploy.WaitAsync(Deadline));
    }

    [Fact]
    public async Task An_engine_without_an_active_plugin_is_refused_naming_the_engine_and_the_node()
    {
        var deploy = await Assert.ThrowsAsync<ValException>(() => Node.DeployImageAsync(Image("docker"), _labels, CancellationToken.None));
        var state = await Assert.ThrowsAsync<ValException>(() => Node.GetImageStateAsync(Image("docker") with { Id = "x" }, CancellationToken.None));

        Assert.Equal($"engine 'docker' has no active plugin on node {Self}", deploy.Message);
        Assert.Equal(deploy.Message, state.Message);
    }

    [Fact]
    public async Task Terminating_an_image_stops_and_removes_its_instance()
    {
        var id = await Node.DeployImageAsync(Image(), _labels, CancellationToken.None);

        await Node.TerminateImageAsync(Image() with { Id = id }, CancellationToken.None);

        Assert.Equal(ImageState.Terminated, await Node.GetImageStateAsync(Image() with { Id = id }, CancellationToken.None));
        Assert.Equal([id], _val.Removed);
    }

    [Fact]
    public async Task The_exit_code_of_an_ended_instance_comes_from_its_plugin_and_is_unknown_for_an_unknown_instance()
    {
        var ended = _val.Add(_labels, ImageState.Terminated, exitCode: 3);

        Assert.Equal(3, await Node.GetExitCodeAsync(Image() with { Id = ended }, CancellationToken.None));
        Assert.Null(await Node.GetExitCodeAsync(Image() with { Id = "nope" }, CancellationToken.None));
    }

    [Fact]
    public async Task Removing_leftovers_removes_every_instance_with_the_labels_and_nothing_else()
    {
        var first = _val.Add(_labels, ImageState.Running);
        var second = _val.Add(_labels, ImageState.Initial);
        var other = _val.Add(InstanceLabelSet.For("svc-2", 0, Self), ImageState.Running);

        await Node.RemoveLeftoversAsync(Image(), _labels, CancellationToken.None);

        Assert.Equal([first, second], _val.Removed.Order());
        Assert.Equal([other], (await _val.GetRunningInstancesAsync(CancellationToken.None)).Select(i => i.Id));
    }

    /// <summary>Listing again until no leftover was left never ended for such a plugin, holding the service's lock for good.</summary>
    [Fact]
    public async Task Removing_leftovers_ends_even_when_the_plugin_keeps_listing_what_it_removed()
    {
        _val.KeepsRemovedInstances = true;
        var leftover = _val.Add(_labels, ImageState.Running);

        await Task.Run(() => Node.RemoveLeftoversAsync(Image(), _labels, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal([leftover], _val.Removed);
    }

    [Fact]
    public async Task An_engine_that_does_not_answer_leaves_out_only_its_own_instances()
    {
        var down = new FakeVal { PluginType = "docker", FailIn = nameof(FakeVal.GetRunningInstancesAsync) };
        var id = _val.Add(_labels, ImageState.Running);
        var node = new LocalNode(new NodeIdentity(Self), new InMemoryCapabilityStore(), new FakeEngines(_val, down), new LocalNodeSettings(TimeSpan.FromSeconds(5)));

        var listing = await node.ListInstancesByEngineAsync(CancellationToken.None);

        Assert.Equal(("fake", id), (Assert.Single(listing.Instances).Engine, listing.Instances[0].Instance.Id));
        Assert.Equal("the docker engine does not answer", Assert.Single(listing.Unanswered, e => e.Key == "docker").Value);
    }

    [Fact]
    public async Task Logs_are_refused_for_another_name_of_a_running_instance_of_another_service_and_read_for_an_ended_one()
    {
        var foreign = _val.Add(InstanceLabelSet.For("svc-2", 0, Self), ImageState.Running);
        _val.Aliases["short"] = foreign;
        var ended = _val.Add(_labels, ImageState.Terminated, exitCode: 0);

        var refused = await Assert.ThrowsAsync<NoInstanceException>(() =>
            Node.ReadLogsAsync(new LogTarget("svc-1", 0, "short", "fake"), new LogRequest(), CancellationToken.None));
        Assert.Equal($"instance short on node {Self} is not image 0 of service svc-1: it is RUNNING but not listed as one of its instances", refused.Message);
        var byId = await Assert.ThrowsAsync<NoInstanceException>(() =>
            Node.ReadLogsAsync(new LogTarget("svc-1", 0, foreign, "fake"), new LogRequest(), CancellationToken.None));
        Assert.Equal($"instance {foreign} on node {Self} is not image 0 of service svc-1", byId.Message);

        var lines = new List<string>();
        await foreach (var line in await Node.ReadLogsAsync(new LogTarget("svc-1", 0, ended, "fake"), new LogRequest(), CancellationToken.None))
            lines.Add(line.Text);
        Assert.Equal([$"output of {ended}"], lines);
    }
}
