using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Core.Membership;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

public sealed class ClusterNodesTests
{
    /// <summary>A placement that listed the peers while one left got a null client and left its service INITIAL.</summary>
    [Fact]
    public async Task The_peer_list_never_holds_a_hole_while_peers_join_and_leave()
    {
        await using var node = await TestNode.StartAsync(plugins: [TestNode.Simulated]);
        var cluster = node.Services.GetRequiredService<ClusterNodes>();
        var addresses = Enumerable.Range(1, 8).Select(i => $"127.0.98.{i}").ToList();
        using var stop = new CancellationTokenSource();
        var churn = Task.Run(async () =>
        {
            for (var round = 0; round < 300; round++)
            {
                foreach (var address in addresses) await cluster.AddAsync(address, CancellationToken.None);
                foreach (var address in addresses) await cluster.RemoveAsync(address, CancellationToken.None);
            }
            stop.Cancel();
        });
        var lists = 0;
        while (!stop.IsCancellationRequested)
        {
            var peers = await cluster.PeersAsync(CancellationToken.None);
            Assert.All(peers, p => Assert.NotNull(p));
            lists++;
        }
        await churn;
        Assert.True(lists > 100, $"only {lists} lists were taken while peers came and went");
    }
}
