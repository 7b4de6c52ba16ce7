using System.Net;
using System.Net.Http.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Storage;

/// <summary>The original corrupted its store with 8 concurrent clients and could not restart. This node must not.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Parallel_capability_and_service_requests_give_no_5xx_and_a_consistent_store_that_survives_a_restart()
    {
        using var folder = new TestFolder();
        const int Clients = 12, Rounds = 20, Posts = 4;
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        var serviceIds = new System.Collections.Concurrent.ConcurrentBag<string>();

        await using (var node = await TestNode.StartAsync(folder, [TestNode.Simulated]))
        {
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
            {
                for (var round = 0; round < Rounds; round++)
                {
                    var capability = $"[{{\"capability\": \"c{client}_{round}\", \"capability_type\": \"test\"}}]";
                    statuses.Add((await node.SendAsync(HttpMethod.Put, "/v1/capabilities", capability, "application/json")).StatusCode);
                    statuses.Add((await node.Client.GetAsync("/v1/capabilities")).StatusCode);
                    // Each client removes its even rounds again, so the end state is known: the odd ones.
                    if (round % 2 == 0)
                        statuses.Add((await node.SendAsync(HttpMethod.Delete, "/v1/capabilities", capability, "application/json")).StatusCode);
                    if (round < Posts)
                    {
                        var response = await node.PostBlueprintAsync($"service_name: s{client}_{round}\nimages:\n- name: x\n  engine: simulated\n");
                        statuses.Add(response.StatusCode);
                        if (response.StatusCode == HttpStatusCode.Created)
                            serviceIds.Add((await response.Content.ReadFromJsonAsync<Service>())!.Id);
                    }
                    statuses.Add((await node.Client.GetAsync("/v1/service")).StatusCode);
                }
            })));

            Assert.DoesNotContain(statuses, s => (int)s >= 500);
            Assert.Equal(Clients * Posts, serviceIds.Count);
            foreach (var id in serviceIds) await node.WaitForServiceAsync(id, s => s.State == ServiceState.Running);
            await AssertStoreAsync(node);
        }

        await using (var restarted = await TestNode.StartAsync(folder, [TestNode.Simulated]))
        {
            var services = (await restarted.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!;
            Assert.Equal(serviceIds.Order(), services.Select(s => s.Id).Order());
            await AssertStoreAsync(restarted);
        }

        async Task AssertStoreAsync(TestNode node)
        {
            var capabilities = (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!
                .Where(c => c.Type == "test").Select(c => c.Name).Order().ToList();
            var expected = Enumerable.Range(0, Clients)
                .SelectMany(client => Enumerable.Range(0, Rounds).Where(r => r % 2 == 1).Select(r => $"c{client}_{r}")).Order().ToList();
            Assert.Equal(expected, capabilities);
        }
    }
}
