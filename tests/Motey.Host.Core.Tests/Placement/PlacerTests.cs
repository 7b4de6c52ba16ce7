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

    private static Placer PlacementWith(IReadOnlyList<INodeClient> peers) => new(
        new FakePeer("127.0.97.250", capable: false, delayMs: 0), new FakeDirectory(peers),
        PlacementSettings.For(TimeSpan.FromSeconds(5)), NullLogger<Placer>.Instance);

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
        // The hung peer is still asked each time, but nobody waits for it: all thirty end before its first request fails
        // 20 s after it was sent (waiting the 1 s preference wait each, they would take 30 s). They take about a second;
        // the wide margin keeps a loaded machine from failing the test (with 5 s and eight placements it did).
        for (var round = 0; round < 30; round++)
            Assert.Equal(capable.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);
        Assert.Equal(0, hung.Failures);
        await Wait.UntilAsync(() => hung.Asked == 31, "the hung peer was asked by every placement");
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

    /// <summary>Answers its capabilities from a thread-pool thread after <c>delayMs</c>; with an infinite delay it fails after <c>failAfter</c>, as a request timeout does.</summary>
    private sealed class FakePeer(string address, bool capable, int delayMs, TimeSpan? failAfter = null) : INodeClient
    {
        private int _asked;
        private int _failures;

        public string Address => address;
        public int Asked => Volatile.Read(ref _asked);
        public int Failures => Volatile.Read(ref _failures);

        /// <summary>How many of the next requests fail at once.</summary>
        public int FailNext;

        public async Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
            if (Interlocked.Decrement(ref FailNext) >= 0) throw new TimeoutException($"node {address} did not answer");
            if (delayMs == Timeout.Infinite)
            {
                await Task.Delay(failAfter!.Value, cancellationToken);
                Interlocked.Increment(ref _failures);
                throw new TimeoutException($"node {address} did not answer");
            }
            await Task.Delay(delayMs, cancellationToken).ConfigureAwait(false);
            return capable ? [new Capability("lab", "hardware"), new Capability("simulated", Capability.PluginType)] : [new Capability("simulated", Capability.PluginType)];
        }

        public Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task TerminateImageAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
