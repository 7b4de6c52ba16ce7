using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Orchestration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Cluster;

/// <summary>
/// The choice among peers on its own: the real placement of a real node, in front of peers that answer from other
/// threads at once or after a moment (fakes: the choice is the logic under test; the cluster tests use real peers).
/// </summary>
public sealed class PlacementChoiceTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(plugins: [TestNode.Simulated]);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static readonly Image Needs = new() { Name = "x", Engine = "simulated", Capabilities = ["lab"] };

    private Placement PlacementWith(IReadOnlyList<INodeClient> peers) => new(
        _node.Services.GetRequiredService<LocalNode>(), new Peers(peers),
        _node.Services.GetRequiredService<MoteySettings>(), _node.Services.GetRequiredService<ILogger<Placement>>());

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
    public async Task A_peer_that_never_answers_is_waited_for_once_then_known_as_silent_and_waited_for_by_nobody()
    {
        var hung = new FakePeer("127.0.97.1", capable: false, delayMs: Timeout.Infinite, failAfter: TimeSpan.FromSeconds(2));
        var capable = new FakePeer("127.0.97.2", capable: true, delayMs: 0);
        var placement = PlacementWith([hung, capable]);

        Assert.Equal(capable.Address, (await placement.FindNodeAsync(Needs, CancellationToken.None)).Node!.Address);
        await Wait.UntilAsync(() => hung.Failures == 1, "the hung peer's request fails on its own after the choice");
        // From now on the hung peer is still asked, but the capable answer is taken before the hung one fails.
        var second = placement.FindNodeAsync(Needs, CancellationToken.None);
        Assert.Equal(capable.Address, (await second).Node!.Address);
        Assert.Equal(2, hung.Asked);
        Assert.Equal(1, hung.Failures);
    }

    private sealed class Peers(IReadOnlyList<INodeClient> peers) : IPeerDirectory
    {
        public Task<IReadOnlyList<INodeClient>> PeersAsync(CancellationToken cancellationToken) => Task.FromResult(peers);
        public INodeClient? Find(string address) => peers.FirstOrDefault(p => p.Address == address);
    }

    /// <summary>Answers its capabilities from a thread-pool thread after <c>delayMs</c>; with an infinite delay it fails after <c>failAfter</c>, as a request timeout does.</summary>
    private sealed class FakePeer(string address, bool capable, int delayMs, TimeSpan? failAfter = null) : INodeClient
    {
        private int _asked;
        private int _failures;

        public string Address => address;
        public int Asked => Volatile.Read(ref _asked);
        public int Failures => Volatile.Read(ref _failures);

        public async Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
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
