using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Membership;

/// <summary>GET /v1/nodes says when each peer was last heard from: any register over MQTT, any answer over ZeroMQ.</summary>
public sealed class LastSeenTests
{
    [Fact]
    public async Task Last_seen_moves_forward_when_a_peer_registers_again_and_when_it_answers_a_request()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        await using var peer = new OriginalNode("[]");
        await Wait.UntilAsync(async () => await node.Client.GetStringAsync("/healthz") == "Healthy", "the node has joined its embedded broker");

        await peer.RegisterAsync(node.Address);
        var first = await LastSeenAsync(node, peer.Address, after: DateTimeOffset.MinValue, "the peer is listed");

        await peer.RegisterAsync(node.Address);
        var registered = await LastSeenAsync(node, peer.Address, after: first, "a second register moves last_seen");

        // No register now: only the peer's ZeroMQ answer to the placement's capability request can move it.
        await node.PostBlueprintAsync("service_name: nowhere\nimages:\n- name: x\n  engine: simulated\n  capabilities: [unheard-of]\n");
        await LastSeenAsync(node, peer.Address, after: registered, "the peer's answer over ZeroMQ moves last_seen");
    }

    [Fact]
    public void Answers_of_one_node_within_a_few_seconds_are_recorded_once_and_the_next_after_that()
    {
        var clock = new SteppedClock();
        var answers = new PeerAnswers(clock);

        for (var i = 0; i < 100; i++) answers.Answered("10.0.0.2");
        answers.Answered("10.0.0.3");
        clock.Advance(PeerAnswers.Interval - TimeSpan.FromMilliseconds(1));
        answers.Answered("10.0.0.2");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        answers.Answered("10.0.0.2");

        var passed = new List<string>();
        while (answers.Reader.TryRead(out var address)) passed.Add(address);
        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.2"], passed);
    }

    /// <summary>Waits until the peer's last_seen is later than <paramref name="after"/>; returns it.</summary>
    private static async Task<DateTimeOffset> LastSeenAsync(TestNode node, string address, DateTimeOffset after, string what)
    {
        var seen = DateTimeOffset.MinValue;
        await Wait.UntilAsync(async () =>
        {
            var entry = (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.FirstOrDefault(n => n.GetProperty("ip").GetString() == address);
            if (entry.ValueKind == JsonValueKind.Undefined) return false;
            seen = entry.GetProperty("last_seen").GetDateTimeOffset();
            return seen > after;
        }, what);
        return seen;
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;

        public override long GetTimestamp() => _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }
}
