using System.Diagnostics;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// One node asks another over real sockets: node A's client against node B's repliers, each on its own loopback
/// address with the same ports, as in a cluster. Requests time out after 1 s so dead and slow peers are quick to show.
/// </summary>
public sealed class ZeroMqNodeClientTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> ShortTimeouts = new()
    {
        ["ZEROMQ:request_timeout"] = "1",
        // Deploys here go to live peers only: 1 s was too short for a first deploy on a loaded machine (a CI run timed out).
        ["ZEROMQ:deploy_timeout"] = "30",
    };

    private PeerNode _a = null!;
    private PeerNode _b = null!;

    public async Task InitializeAsync()
    {
        _a = await PeerNode.CreateAsync(simulatedPlugin: false, ShortTimeouts);
        _b = await PeerNode.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private static Image Busybox => new() { Name = "busybox", Engine = "simulated" };

    [Fact]
    public async Task The_client_lists_deploys_reports_and_terminates_an_image_on_a_live_node()
    {
        await _b.Capabilities.AddAsync([new Capability("gpu", "hardware")]);
        await _b.StartRepliersAsync();
        var b = _a.Peers.For(_b.Address);
        var labels = new Dictionary<string, string>
        {
            [InstanceLabels.ServiceId] = "s1", [InstanceLabels.ImageIndex] = "0", [InstanceLabels.Node] = _b.Address,
        };

        Assert.Equal([new Capability("gpu", "hardware"), new Capability("simulated", "plugin")], await b.GetCapabilitiesAsync(CancellationToken.None));
        var id = await b.DeployImageAsync(Busybox, labels, CancellationToken.None);
        var image = Busybox with { Id = id, Node = _b.Address };
        Assert.Equal("s1", Assert.Single(await _b.Simulated.GetRunningInstancesAsync(CancellationToken.None)).Labels[InstanceLabels.ServiceId]);
        await Wait.UntilAsync(async () => await b.GetImageStateAsync(image, CancellationToken.None) == ImageState.Running, "the image runs on B");
        Assert.Null(await b.GetExitCodeAsync(image, CancellationToken.None));
        await b.TerminateImageAsync(image, CancellationToken.None);
        Assert.Equal(ImageState.Terminated, await b.GetImageStateAsync(image, CancellationToken.None));
    }

    [Fact]
    public async Task The_client_times_out_where_nothing_listens_naming_node_and_endpoint_and_then_reaches_a_live_node()
    {
        await _b.StartRepliersAsync();
        var nobody = Loopback.NewAddress();
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<PeerTimeoutException>(() => _a.Peers.For(nobody).GetCapabilitiesAsync(CancellationToken.None));

        Assert.Equal($"node {nobody} did not answer on tcp://{nobody}:5091 within 1 s", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.NotEmpty(await _a.Peers.For(_b.Address).GetCapabilitiesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_request_to_a_slow_peer_times_out_and_later_requests_to_it_work()
    {
        var gated = new GatedNode(_b.Local) { HeldCapabilityRequests = 1 };
        await _b.StartRepliersAsync(gated);
        var b = _a.Peers.For(_b.Address);

        var error = await Assert.ThrowsAsync<PeerTimeoutException>(() => b.GetCapabilitiesAsync(CancellationToken.None));
        Assert.Contains($"node {_b.Address} did not answer", error.Message);

        gated.ReleaseCapabilities();  // the late answer goes to a socket that is gone
        for (var i = 0; i < 3; i++) Assert.NotEmpty(await b.GetCapabilitiesAsync(CancellationToken.None));
        Assert.Equal(4, gated.CapabilityRequestsSeen);
    }

    [Fact]
    public async Task A_deploy_that_fails_on_the_peer_throws_naming_node_image_and_the_peers_reason()
    {
        await _b.StartRepliersAsync();

        var error = await Assert.ThrowsAsync<PeerException>(() =>
            _a.Peers.For(_b.Address).DeployImageAsync(Busybox with { Engine = "nope" }, new Dictionary<string, string>(), CancellationToken.None));

        Assert.Equal($"node {_b.Address} could not deploy image busybox: engine 'nope' has no active plugin on node {_b.Address}", error.Message);
        Assert.True(_b.Logs.Contains("engine 'nope' has no active plugin"));
    }

    [Fact]
    public async Task A_deploy_the_peers_vals_refuse_throws_with_the_vals_words()
    {
        await _b.StartRepliersAsync();

        var error = await Assert.ThrowsAsync<PeerException>(() => _a.Peers.For(_b.Address).DeployImageAsync(
            Busybox with { Parameters = new Dictionary<string, System.Text.Json.JsonElement> { ["colour"] = System.Text.Json.JsonSerializer.SerializeToElement("red") } },
            new Dictionary<string, string>(), CancellationToken.None));

        Assert.StartsWith($"node {_b.Address} could not deploy image busybox: parameters.colour: unknown parameter", error.Message);
        Assert.Empty(await _b.Simulated.GetRunningInstancesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_terminate_that_fails_on_the_peer_throws_with_the_peer_reason()
    {
        await _b.StartRepliersAsync();

        var error = await Assert.ThrowsAsync<PeerException>(() =>
            _a.Peers.For(_b.Address).TerminateImageAsync(Busybox with { Id = "abc", Engine = "nope" }, CancellationToken.None));

        Assert.Equal($"node {_b.Address} could not terminate image busybox: engine 'nope' has no active plugin on node {_b.Address}", error.Message);
    }

    [Fact]
    public async Task A_cancelled_request_ends_with_OperationCanceledException_before_its_timeout()
    {
        await using var patient = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = "60" });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => patient.Peers.For(Loopback.NewAddress()).GetCapabilitiesAsync(cancel.Token));
    }

    [Fact]
    public async Task Hundreds_of_requests_to_dead_nodes_time_out_side_by_side_and_not_one_after_another()
    {
        var clock = Stopwatch.StartNew();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 300).Select(async _ =>
        {
            try
            {
                await _a.Peers.For(Loopback.NewAddress()).GetCapabilitiesAsync(CancellationToken.None);
                return "answered";
            }
            catch (PeerTimeoutException)
            {
                return "timed out";
            }
        }));

        Assert.All(outcomes, o => Assert.Equal("timed out", o));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));  // one after another would be 300 s
    }

    [Fact]
    public void The_peer_factory_gives_the_local_node_for_its_own_address_and_a_ZeroMQ_client_for_others()
    {
        Assert.Same(_a.Local, _a.Peers.For(_a.Address));
        var remote = _a.Peers.For(_b.Address);
        Assert.IsType<ZeroMqNodeClient>(remote);
        Assert.Equal(_b.Address, remote.Address);
    }
}
