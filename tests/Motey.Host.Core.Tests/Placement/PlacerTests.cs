using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Placement;
using Motey.Host.Core.Tests.Fakes;

namespace Motey.Host.Core.Tests.Placement;

/// <summary>
/// The choice among peers on its own: the real placer in front of a local node that lacks the capability and peers
/// that answer from other threads at once or after a moment (fakes: the choice is the logic under test; the host's
/// placement tests use real nodes over real sockets).
/// </summary>
public sealed class PlacerTests
{
    private static readonly Image Needs = new() { Name = "x", Engine = "simulated", Capabilities = ["lab"] };

    private static readonly IReadOnlyList<Capability> LabCapabilities = [new Capability("lab", "hardware"), new Capability("simulated", Capability.PluginType)];
    private static readonly IReadOnlyList<Capability> EngineOnly = [new Capability("simulated", Capability.PluginType)];

    private static Placer PlacementWith(IReadOnlyList<INodeClient> peers, CapabilityView? view = null, TimeSpan? requestTimeout = null) => new(
        new FakePeer("127.0.97.250", capable: false, delayMs: 0), new FakeDirectory(peers), view ?? new CapabilityView(),
        PlacementSettings.For(requestTimeout ?? TimeSpan.FromSeconds(5)), NullLogger<Placer>.Instance);

    /// <summary>Placement judges every member from the view with <see cref="Placer.Offers"/> and names what is missing with <see cref="Placer.Missing"/>: the two never disagree.</summary>
    [Theory]
    [InlineData("lab:hardware,simulated:plugin", true)]
    [InlineData("simulated:plugin", false)]
    [InlineData("lab:hardware", false)]
    [InlineData("lab:hardware,simulated:hardware", false)]
    [InlineData("lab:plugin,simulated:plugin", true)]
    [InlineData("", false)]
    public void Offers_agrees_with_what_Missing_names(string offered, bool runs)
    {
        var list = offered.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(c => c.Split(':')).Select(c => new Capability(c[0], c[1])).ToList();
        Assert.Equal(runs, Placer.Offers(Needs, list));
        Assert.Equal(runs, Placer.Missing(Needs, list).Count == 0);
    }

    /// <summary>An answer that arrived while the placement looked at the others was once taken for "nobody can": ERROR.</summary>
    [Fact]
    public async Task The_only_capable_peer_is_found_however_the_answers_interleave()
    {
        var peers = Enumerable.Range(0, 20).Select(i => new FakePeer($"127.0.97.{i + 10}", capable: i == 19, delayMs: i % 3)).ToList();
        var placement = PlacementWith(peers);
        for (var round = 0; round < 500; round++)
        {
            var result = await placement.FindNodeAsync(Needs, CancellationToken.None);
            Assert.True(result.Node is not null, $"round {round}: {result.Problem}");
            Assert.Equal(peers[^1].Address, result.Node.Address);
        }
    }

    [Fact]
    public async Task The_first_capable_peer_in_order_is_chosen_when_every_peer_answers()
    {
        var peers = Enumerable.Range(0, 6).Select(i => new FakePeer($"127.0.97.{i + 10}", capable: i >= 3, delayMs: 6 - i)).ToList();
        var result = await PlacementWith(peers).FindNodeAsync(Needs, CancellationToken.None);
        Assert.Equal(peers[3].Address, result.Node!.Address);
    }

    [Fact]
    public async Task A_peer_that_never_answers_holds_up_one_placement_for_the_preference_wait_and_the_next_ones_not_at_all()
    {
        var hung = new FakePeer("127.0.97.1", capable: false, delayMs: Timeout.Infinite, failAfter: TimeSpan.FromSeconds(20));
        var capable = new FakePeer("127.0.97.2", capable: true, delayMs: 0);
        var placement = PlacementWith([hung, capable]);

        Assert.Equal(capable.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);
        // Nobody waits for the hung peer: all thirty end before its first request fails 20 s after it was sent (waiting
        // the 1 s preference wait each, they would take 30 s). They take about a second; the wide margin keeps a loaded
        // machine from failing the test (with 5 s and eight placements it did).
        for (var round = 0; round < 30; round++)
            Assert.Equal(capable.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);
        Assert.Equal(0, hung.Failures);
        // Silent, it is asked by one request at a time, shared by every placement: not thirty-one requests piling up.
        Assert.Equal(1, hung.Asked);
    }

    [Fact]
    public async Task A_silent_peer_that_answers_again_is_preferred_again_by_its_place_in_the_order()
    {
        var slow = new FakePeer("127.0.97.1", capable: true, delayMs: 0) { FailNext = 1 };
        var other = new FakePeer("127.0.97.2", capable: true, delayMs: 0);
        var placement = PlacementWith([slow, other]);

        Assert.Equal(other.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);
        await Wait.UntilAsync(async () => (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address == slow.Address,
            "the first peer in the order is chosen again once it answers");
    }

    [Fact]
    public async Task A_peer_the_view_says_can_run_it_is_chosen_after_one_confirming_request_and_no_other_peer_is_asked()
    {
        var view = new CapabilityView();
        var peers = Enumerable.Range(0, 10).Select(i => new FakePeer($"127.0.97.{i + 10}", capable: i == 6, delayMs: 0)).ToList();
        foreach (var peer in peers) view.Set(peer.Address, peer.Address == peers[6].Address ? LabCapabilities : EngineOnly, DateTimeOffset.UtcNow);

        var result = await PlacementWith(peers, view).FindNodeAsync(Needs, CancellationToken.None);

        Assert.Equal(peers[6].Address, result.Node!.Address);
        Assert.Equal(1, peers[6].Asked);
        Assert.All(peers.Where(p => p != peers[6]), p => Assert.Equal(0, p.Asked));
    }

    [Fact]
    public async Task A_peer_whose_published_capabilities_lack_it_is_asked_only_when_nobody_would_be_final()
    {
        var view = new CapabilityView();
        var gained = new FakePeer("127.0.97.10", capable: true, delayMs: 0);  // published before it gained lab
        view.Set(gained.Address, EngineOnly, DateTimeOffset.UtcNow);
        var placement = PlacementWith([gained], view);

        var waiting = await placement.FindNodeAsync(Needs, new HashSet<string>(), CancellationToken.None);
        Assert.Null(waiting.Node);
        Assert.Equal(0, gained.Asked);

        // After a failed deploy, "nobody" ends the image in ERROR: what the peer published is checked against its answer.
        var final = await placement.FindNodeAsync(Needs, new HashSet<string>(), CancellationToken.None, confirmLacking: true);
        Assert.Equal(gained.Address, final.Node!.Address);
        Assert.Equal(1, gained.Asked);
    }

    [Fact]
    public async Task A_slow_capable_peer_is_not_taken_for_one_that_cannot_when_nobody_would_be_final()
    {
        var slow = new FakePeer("127.0.97.10", capable: true, delayMs: 1500);  // past the 1 s preference wait, within the timeout
        var placement = PlacementWith([slow], requestTimeout: TimeSpan.FromSeconds(5));

        // Only waiting would follow: the placement does not wait it out, and says who did not answer.
        var waiting = await placement.FindNodeAsync(Needs, new HashSet<string>(), CancellationToken.None);
        Assert.Null(waiting.Node);
        Assert.Contains("1 could not be asked", waiting.Problem);

        // ERROR would follow: the answer is waited for.
        var final = await placement.FindNodeAsync(Needs, new HashSet<string>(), CancellationToken.None, confirmLacking: true);
        Assert.Equal(slow.Address, final.Node!.Address);
    }

    [Fact]
    public async Task A_view_candidate_that_turns_out_lacking_is_forgotten_and_the_next_one_is_chosen()
    {
        var view = new CapabilityView();
        var changed = new FakePeer("127.0.97.10", capable: false, delayMs: 0);  // published lab, has lost it since
        var next = new FakePeer("127.0.97.11", capable: true, delayMs: 0);
        view.Set(changed.Address, LabCapabilities, DateTimeOffset.UtcNow);
        view.Set(next.Address, LabCapabilities, DateTimeOffset.UtcNow);

        var result = await PlacementWith([changed, next], view).FindNodeAsync(Needs, CancellationToken.None);

        Assert.Equal(next.Address, result.Node!.Address);
        Assert.Null(view.Find(changed.Address));
        Assert.NotNull(view.Find(next.Address));
    }

    [Fact]
    public async Task A_view_candidate_that_does_not_answer_is_skipped_and_the_next_one_is_chosen_without_waiting_for_its_timeout()
    {
        var view = new CapabilityView();
        var dead = new FakePeer("127.0.97.10", capable: true, delayMs: Timeout.Infinite, failAfter: TimeSpan.FromSeconds(30));
        var next = new FakePeer("127.0.97.11", capable: true, delayMs: 0);
        view.Set(dead.Address, LabCapabilities, DateTimeOffset.UtcNow);
        view.Set(next.Address, LabCapabilities, DateTimeOffset.UtcNow);
        var placement = PlacementWith([dead, next], view, TimeSpan.FromSeconds(30));

        // Its request runs 30 s: a placement that waited for it would miss these deadlines.
        for (var round = 0; round < 5; round++)
        {
            var result = await placement.FindNodeAsync(Needs, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(next.Address, result.Node!.Address);
        }
        Assert.Equal(0, dead.Failures);
        Assert.Equal(1, dead.Asked);  // silent: one request out at a time
    }

    /// <summary>A dead node refuses at once: without a pause every placement asked it again (a new connection each time).</summary>
    [Fact]
    public async Task A_silent_peer_whose_request_failed_is_not_asked_again_by_the_placements_of_the_next_seconds()
    {
        var refusing = new FakePeer("127.0.97.10", capable: true, delayMs: 0) { FailNext = int.MaxValue };
        var capable = new FakePeer("127.0.97.11", capable: true, delayMs: 0);
        var placement = PlacementWith([refusing, capable]);

        for (var round = 0; round < 20; round++)
            Assert.Equal(capable.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);

        // Twenty placements well within Placer.SilentRetry (5 s): one request, the first placement's.
        Assert.Equal(1, refusing.Asked);
    }

    [Fact]
    public async Task A_peer_without_a_view_entry_is_asked_the_v1_way_and_chosen_by_its_place_in_the_order()
    {
        var view = new CapabilityView();
        var original = new FakePeer("127.0.97.10", capable: true, delayMs: 5);  // an original node: it publishes nothing
        var published = new FakePeer("127.0.97.11", capable: true, delayMs: 0);
        var lacking = new FakePeer("127.0.97.12", capable: false, delayMs: 0);
        view.Set(published.Address, LabCapabilities, DateTimeOffset.UtcNow);
        view.Set(lacking.Address, EngineOnly, DateTimeOffset.UtcNow);

        var result = await PlacementWith([original, published, lacking], view).FindNodeAsync(Needs, CancellationToken.None);

        Assert.Equal(original.Address, result.Node!.Address);
        Assert.Equal(1, original.Asked);
        Assert.Equal(0, lacking.Asked);
    }

    [Fact]
    public async Task No_more_than_the_bound_of_requests_is_out_at_once_however_many_peers_must_be_asked()
    {
        var inFlight = new InFlight();
        var peers = Enumerable.Range(0, 300).Select(i => new FakePeer(Address(i), capable: i == 299, delayMs: 2, inFlight: inFlight)).ToList();

        var result = await PlacementWith(peers).FindNodeAsync(Needs, CancellationToken.None);

        Assert.Equal(peers[^1].Address, result.Node!.Address);
        Assert.InRange(inFlight.Most, 1, Placer.MaxRequestsInFlight);
        Assert.All(peers, p => Assert.Equal(1, p.Asked));
    }

    /// <summary>The i-th of up to 1,000 peer addresses, in directory (ordinal) order.</summary>
    private static string Address(int i) => $"127.0.{90 + i / 100}.{100 + i % 100}";

    [Fact]
    public async Task Many_dead_peers_make_no_placement_wait_for_their_request_timeout()
    {
        // 60 of 200 peers dead (their requests fail after 30 s), spread through the order; the capable peers change.
        var peers = Enumerable.Range(0, 200).Select(i => i % 10 is 1 or 4 or 7
                ? new FakePeer(Address(i), capable: true, delayMs: Timeout.Infinite, failAfter: TimeSpan.FromSeconds(30))
                : new FakePeer(Address(i), capable: i % 10 == 9, delayMs: 1))
            .ToList();
        var dead = peers.Where((_, i) => i % 10 is 1 or 4 or 7).ToList();
        var capable = peers.Where((_, i) => i % 10 == 9).ToList();
        var placement = PlacementWith(peers, requestTimeout: TimeSpan.FromSeconds(30));

        // 40 placements, each to a later capable peer (the earlier ones excluded, as after failed deploys): every one
        // passes dead peers not met before. Waiting for a dead peer's request, one would take 30 s; all forty together
        // must end well before that.
        var all = Task.Run(async () =>
        {
            for (var round = 0; round < 40; round++)
            {
                var target = round % capable.Count;
                var result = await placement.FindNodeAsync(Needs, capable.Take(target).Select(p => p.Address).ToHashSet(), CancellationToken.None);
                Assert.True(result.Node is not null, $"round {round}: {result.Problem}");
                Assert.Equal(capable[target].Address, result.Node.Address);
            }
        });
        await all.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(dead, p => Assert.InRange(p.Asked, 0, 1));  // silent: one request out at a time, however many placements
    }

    [Fact]
    public async Task A_peer_this_node_could_not_ask_is_reported_as_this_nodes_failure_not_as_unable()
    {
        var unasked = new FakePeer("127.0.97.10", capable: true, delayMs: 0)
        {
            FailWith = new LocalRequestException("node 127.0.97.10 was not asked: this node holds its limit of 2 peer connections"),
        };
        var lacking = new FakePeer("127.0.97.11", capable: false, delayMs: 0);
        var placement = PlacementWith([unasked, lacking]);

        var result = await placement.FindNodeAsync(Needs, CancellationToken.None);

        Assert.Null(result.Node);
        Assert.Contains("none of the 1 other known nodes asked has all of them, and this node could not ask the other 1", result.Problem);
        Assert.Contains("holds its limit of 2 peer connections", result.Problem);
        Assert.DoesNotContain("could not be asked", result.Problem);  // not silent: the peer is asked again next time
        unasked.FailWith = null;
        Assert.Equal(unasked.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);
    }

    /// <summary>Answers its capabilities from a thread-pool thread after <c>delayMs</c>; with an infinite delay it fails after <c>failAfter</c>, as a request timeout does.</summary>
    /// <remarks><paramref name="inFlight"/>, when given, counts this peer's requests still out, with the most ever out at once.</remarks>
    private sealed class FakePeer(string address, bool capable, int delayMs, TimeSpan? failAfter = null, InFlight? inFlight = null) : INodeClient
    {
        private int _asked;
        private int _failures;

        public string Address => address;
        public int Asked => Volatile.Read(ref _asked);
        public int Failures => Volatile.Read(ref _failures);

        /// <summary>How many of the next requests fail at once.</summary>
        public int FailNext;

        /// <summary>When set, every request fails at once with it (as the requester's own failures do).</summary>
        public Exception? FailWith;

        public async Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
            if (FailWith is { } failure) throw failure;
            if (Interlocked.Decrement(ref FailNext) >= 0) throw new TimeoutException($"node {address} did not answer");
            inFlight?.Enter();
            try
            {
                if (delayMs == Timeout.Infinite)
                {
                    await Task.Delay(failAfter!.Value, cancellationToken);
                    Interlocked.Increment(ref _failures);
                    throw new TimeoutException($"node {address} did not answer");
                }
                await Task.Delay(delayMs, cancellationToken).ConfigureAwait(false);
                return capable ? LabCapabilities : EngineOnly;
            }
            finally
            {
                inFlight?.Leave();
            }
        }

        public Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task TerminateImageAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    /// <summary>Requests out at once across peers, and the most there ever were.</summary>
    private sealed class InFlight
    {
        private int _now;
        private int _most;

        public int Most => Volatile.Read(ref _most);

        public void Enter()
        {
            var now = Interlocked.Increment(ref _now);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most) { }
        }

        public void Leave() => Interlocked.Decrement(ref _now);
    }
}
