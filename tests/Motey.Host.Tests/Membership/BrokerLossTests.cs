using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Motey.Host.Membership;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// In-process agents on their own loopback addresses whose broker goes away with the node that hosts it. There is no
/// kill -9 in-process: a node is cut off by stopping its embedded broker (which publishes no last wills while it
/// stops, as after a crash) and its ZeroMQ repliers; its own membership then only knows its own dead broker, so it can
/// neither reconnect elsewhere nor say goodbye. Motey.EndToEnd.Tests kills real processes the same way.
/// </summary>
public sealed class BrokerLossTests : IAsyncLifetime
{
    /// <summary>The documented bound with the test nodes' request_timeout (2 s): 6 s.</summary>
    private static readonly TimeSpan Bound = DirectPeerChecks.DropBound(TimeSpan.FromSeconds(2));

    /// <summary>What a loaded two-core machine may add to the bound: polling, thread-pool and timer delays.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    private readonly List<TestFolder> _folders = [];
    private readonly List<TestNode> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _nodes.Count - 1; i >= 0; i--) await _nodes[i].DisposeAsync();
        foreach (var folder in _folders) folder.Dispose();
    }

    private async Task<TestNode> StartAsync(TestFolder? folder = null, Dictionary<string, string>? settings = null)
    {
        if (folder is null)
        {
            folder = new TestFolder();
            _folders.Add(folder);
        }
        var node = await TestNode.StartAsync(folder, [TestNode.Simulated], settings);
        _nodes.Add(node);
        return node;
    }

    private static Dictionary<string, string> External(params TestFolder[] brokers) => new()
    {
        ["MQTT:broker"] = "external",
        ["MQTT:brokers"] = string.Join(", ", brokers.Select(b => $"{b.Address}:1883")),
    };

    private static Dictionary<string, string> Embedded(params TestFolder[] brokers) => new()
    {
        ["MQTT:brokers"] = string.Join(", ", brokers.Select(b => $"{b.Address}:1883")),
    };

    private static async Task<List<string>> MembersAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal).ToList();

    private static async Task WaitForMembersAsync(IEnumerable<TestNode> observers, IEnumerable<TestNode> members, TimeSpan? within = null)
    {
        var expected = members.Select(m => m.Address).Order(StringComparer.Ordinal).ToList();
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        foreach (var observer in observers)
        {
            List<string> seen;
            while (!(seen = await MembersAsync(observer)).SequenceEqual(expected))
            {
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"{observer.Address} lists [{string.Join(", ", seen)}], expected [{string.Join(", ", expected)}]");
                await Task.Delay(50);
            }
        }
    }

    private static Task<string> HealthAsync(TestNode node) => node.Client.GetStringAsync("/healthz");

    /// <summary>What a crash does to the network: the node's broker and its ZeroMQ repliers are gone, and nobody hears a goodbye.</summary>
    private static async Task CutOffAsync(TestNode node)
    {
        var hosted = node.Services.GetServices<IHostedService>().ToList();
        await hosted.OfType<EmbeddedBroker>().Single().StopAsync(CancellationToken.None);
        await hosted.OfType<PeerRepliers>().Single().StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Nodes_that_shared_the_broker_of_a_node_that_dies_drop_it_within_the_bound_and_keep_each_other()
    {
        var v = await StartAsync();
        var s = await StartAsync(settings: External(v.Folder));
        var t = await StartAsync(settings: External(v.Folder));
        await WaitForMembersAsync([v, s, t], [v, s, t]);

        var clock = Stopwatch.StartNew();
        await CutOffAsync(v);

        await WaitForMembersAsync([s, t], [s, t], Bound + Slack);
        Assert.True(clock.Elapsed < Bound + Slack, $"dropping the dead node took {clock.Elapsed.TotalSeconds:0.0} s");
        // No broker answers: membership is degraded, not unhealthy, and the survivors stay listed for each other.
        Assert.Equal("Degraded", await HealthAsync(s));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await t.Client.GetAsync("/v1/heartbeat")).StatusCode);
        await WaitForMembersAsync([s, t], [s, t]);
    }

    [Fact]
    public async Task With_a_second_broker_the_survivors_move_to_it_drop_the_dead_node_and_a_node_started_afterwards_joins_them()
    {
        var folderV = new TestFolder();
        var folderS = new TestFolder();
        _folders.AddRange([folderV, folderS]);
        // V lists only its own broker: cut off, it must not reach S's broker and say goodbye there.
        var v = await StartAsync(folderV);
        var s = await StartAsync(folderS, Embedded(folderV, folderS));
        var t = await StartAsync(settings: External(folderV, folderS));
        await WaitForMembersAsync([v, s, t], [v, s, t]);

        var clock = Stopwatch.StartNew();
        await CutOffAsync(v);

        await WaitForMembersAsync([s, t], [s, t], Bound + Slack);
        Assert.True(clock.Elapsed < Bound + Slack, $"dropping the dead node took {clock.Elapsed.TotalSeconds:0.0} s");
        await Wait.UntilAsync(async () => await HealthAsync(s) == "Healthy" && await HealthAsync(t) == "Healthy", "both survivors are connected to S's broker");

        var w = await StartAsync(settings: External(folderV, folderS));
        await WaitForMembersAsync([s, t, w], [s, t, w]);
    }

    [Fact]
    public async Task Nodes_on_a_later_broker_move_back_to_the_first_one_once_it_answers_again()
    {
        var folderV = new TestFolder();
        var folderS = new TestFolder();
        _folders.AddRange([folderV, folderS]);
        // V's broker is not there yet: S and T meet on S's, the second of the list.
        var s = await StartAsync(folderS, Embedded(folderV, folderS));
        var t = await StartAsync(settings: External(folderV, folderS));
        await WaitForMembersAsync([s, t], [s, t]);

        var v = await StartAsync(folderV, Embedded(folderV, folderS));

        // V connects to its own broker, the first of the list, and hears S and T only if they moved there.
        await WaitForMembersAsync([v, s, t], [v, s, t], MqttMembership.PreferredBrokerRetry + TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_peer_that_still_answers_over_ZeroMQ_is_kept_while_no_broker_answers()
    {
        var v = await StartAsync();
        var s = await StartAsync(settings: External(v.Folder));
        var t = await StartAsync(settings: External(v.Folder));
        await WaitForMembersAsync([v, s, t], [v, s, t]);

        // Only the broker goes: V itself still answers its peers.
        await v.Services.GetServices<IHostedService>().OfType<EmbeddedBroker>().Single().StopAsync(CancellationToken.None);
        await Wait.UntilAsync(async () => await HealthAsync(s) == "Degraded", "S lost the broker");

        var end = DateTime.UtcNow + Bound + Slack;
        while (DateTime.UtcNow < end)
        {
            Assert.Equal([.. new[] { v.Address, s.Address, t.Address }.Order(StringComparer.Ordinal)], await MembersAsync(s));
            Assert.Equal([.. new[] { v.Address, s.Address, t.Address }.Order(StringComparer.Ordinal)], await MembersAsync(t));
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Stopping_the_node_that_hosts_the_broker_drops_only_that_node_from_the_others_lists()
    {
        var v = await StartAsync();
        var s = await StartAsync(settings: External(v.Folder));
        var t = await StartAsync(settings: External(v.Folder));
        await WaitForMembersAsync([v, s, t], [v, s, t]);

        // While V's broker stops, the connections of S and T end without a DISCONNECT of theirs: a broker that sent
        // their last wills would make each drop the other, alive as it is.
        _nodes.Remove(v);
        var stop = v.DisposeAsync().AsTask();
        var end = DateTime.UtcNow + Bound + Slack;
        while (DateTime.UtcNow < end)
        {
            Assert.Contains(t.Address, await MembersAsync(s));
            Assert.Contains(s.Address, await MembersAsync(t));
            await Task.Delay(50);
        }
        await stop;
        await WaitForMembersAsync([s, t], [s, t]);
    }
}
