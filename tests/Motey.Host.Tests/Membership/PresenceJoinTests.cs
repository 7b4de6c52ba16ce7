using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.EndToEnd.Tests;
using Motey.Host.Core.Model;
using Motey.Host.Core.Placement;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// A join among many nodes (issue 16): simulated peers, one MQTT client each as a Motey.NET node would be on the wire
/// (its last will, its retained presence, its register), and an agent that joins them. It learns every one of them from
/// the retained presences, one delivery each, and none is dropped on the way: not by the embedded broker's per-client
/// queue, not by mosquitto's.
/// </summary>
public sealed class PresenceJoinTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How many simulated peers connect at once (a connect is a TCP and an MQTT handshake).</summary>
    private const int ConnectingAtOnce = 32;

    private readonly List<TestFolder> _folders = [];
    private readonly List<IAsyncDisposable> _running = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _running.Count - 1; i >= 0; i--) await _running[i].DisposeAsync();
        foreach (var folder in _folders) folder.Dispose();
    }

    private async Task<TestNode> StartAsync(Dictionary<string, string>? settings = null)
    {
        var folder = new TestFolder();
        _folders.Add(folder);
        // Information: a line per joined node is what the log should say, and Debug would add more of them.
        settings ??= new();
        settings["LOGGER:level"] = "Information";
        var node = await TestNode.StartAsync(folder, [TestNode.Simulated], settings);
        _running.Add(node);
        return node;
    }

    /// <summary><paramref name="count"/> simulated Motey.NET nodes on the broker at <paramref name="host"/>:1883; their addresses.</summary>
    private async Task<List<string>> StartPeersAsync(string host, int count)
    {
        var addresses = Enumerable.Range(0, count).Select(_ => TestNode.NextAddress()).ToList();
        var peers = new MqttProbe[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = ConnectingAtOnce }, async (i, _) =>
        {
            var peer = peers[i] = await MqttProbe.ConnectAsync(host, 1883, addresses[i], will: true);
            await peer.PublishPresenceAsync(new Capability("lab", "hardware"), new Capability($"peer-{i}", "hardware"));
            await peer.PublishAsync(MqttMembership.Register, peer.Address);
        });
        _running.AddRange(peers);
        return addresses;
    }

    private static async Task<HashSet<string>> MembersAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToHashSet();

    /// <summary>Starts an agent on <paramref name="settings"/>'s broker among <paramref name="peers"/> and waits until it lists each of them; how long that took from its joining the broker.</summary>
    private async Task<TimeSpan> JoinAsync(Dictionary<string, string> settings, IReadOnlyCollection<string> members)
    {
        var clock = Stopwatch.StartNew();
        var joiner = await StartAsync(settings);
        var started = clock.Elapsed;
        var expected = members.Append(joiner.Address).ToHashSet();
        HashSet<string> seen = [];
        await Wait.UntilAsync(async () => (seen = await MembersAsync(joiner)).SetEquals(expected),
            $"the joiner lists all {expected.Count} nodes", TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(200),
            () => $"it lists {seen.Count}; missing e.g. {string.Join(", ", expected.Except(seen).Take(5))}; extra: {string.Join(", ", seen.Except(expected).Take(5))}");
        var took = clock.Elapsed - started;
        var view = joiner.Services.GetRequiredService<CapabilityView>();
        var missing = members.Where(m => view.Find(m) is null).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} members have no capabilities in the joiner's view, e.g. {string.Join(", ", missing.Take(5))}");
        return took;
    }

    [Fact]
    public async Task A_join_among_1000_simulated_peers_on_the_embedded_broker_lists_every_one_of_them()
    {
        const int Peers = 1000;
        var host = await StartAsync();
        await Wait.UntilAsync(async () => await host.Client.GetStringAsync("/healthz") == "Healthy", "the broker node has joined its own broker");
        var peers = await StartPeersAsync(host.Address, Peers);
        var took = await JoinAsync(new() { ["MQTT:broker"] = "external", ["MQTT:ip"] = host.Address }, [.. peers, host.Address]);
        output.WriteLine($"embedded broker: a join among {Peers} peers listed every one {took.TotalMilliseconds:0} ms after the joiner had started");
        // The broker's node lists every one too (it heard them live).
        var all = await MembersAsync(host);
        Assert.Equal(Peers + 2, all.Count);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(2000)]
    [Trait(Categories.Name, Categories.Broker)]
    public async Task A_join_among_many_simulated_peers_on_mosquitto_lists_every_one_of_them(int peers)
    {
        var folder = new TestFolder();
        _folders.Add(folder);
        // The limits of a default mosquitto 2.0, written out: the tests show they drop nothing at these sizes.
        var mosquitto = new MosquittoBroker(folder.Path, TestNode.NextAddress(), extraConfig: "max_queued_messages 1000\nmax_inflight_messages 20\nsys_interval 1\n");
        await mosquitto.StartAsync();
        _running.Add(mosquitto);
        var addresses = await StartPeersAsync(mosquitto.Ip, peers);
        var took = await JoinAsync(new() { ["MQTT:broker"] = "external", ["MQTT:ip"] = mosquitto.Ip }, addresses);
        output.WriteLine($"mosquitto: a join among {peers} peers listed every one {took.TotalMilliseconds:0} ms after the joiner had started");

        // What mosquitto says it dropped ($SYS, published every sys_interval): nothing.
        await using var sys = await MqttProbe.ConnectAsync(mosquitto.Ip, 1883, "sys-reader", false, "$SYS/broker/publish/messages/dropped");
        var dropped = await Wait.ForAsync(() => Task.FromResult(sys.Deliveries.LastOrDefault()), d => d is not null, "mosquitto tells its dropped messages", _ => "");
        output.WriteLine($"mosquitto: $SYS/broker/publish/messages/dropped = {dropped!.Text}");
        Assert.Equal("0", dropped.Text);
    }
}
