using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests;

/// <summary>Presences (README, How the cluster works) between agents as real processes on mosquitto.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class PresenceClusterTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-presence-");
    private string _brokerIp = "";

    public async Task InitializeAsync()
    {
        var mosquitto = new MosquittoBroker(_scope.Root, AgentProcess.NextAddress());
        await mosquitto.StartAsync();
        _scope.Add(mosquitto);
        _brokerIp = mosquitto.Ip;
    }

    public Task DisposeAsync() => _scope.StopAsync();

    private async Task<AgentProcess> StartAsync(string name)
    {
        var agent = _scope.Add(AgentProcess.Start(_scope.Folder(name), settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = _brokerIp,
        }));
        await agent.WaitHealthyAsync();
        return agent;
    }

    private static async Task<HashSet<string>> NodesAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToHashSet();

    private static Task WaitForMembersAsync(AgentProcess observer, params AgentProcess[] members)
    {
        var expected = members.Select(m => m.Address).ToHashSet();
        HashSet<string> seen = [];
        return Wait.UntilAsync(async () => (seen = await NodesAsync(observer)).SetEquals(expected),
            $"{observer.Address} lists exactly [{string.Join(", ", expected.Order())}]", TimeSpan.FromSeconds(30),
            detail: () => $"it lists [{string.Join(", ", seen.Order())}]\n{observer.Output}");
    }

    private static string Cleared(AgentProcess dead) => $"Cleared the presence node {dead.Address} left behind";

    [Fact]
    public async Task The_presence_of_a_killed_node_is_cleared_by_one_live_node_and_a_node_started_later_does_not_list_it()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var c = await StartAsync("c");
        foreach (var node in new[] { a, b, c }) await WaitForMembersAsync(node, a, b, c);

        c.Kill();  // SIGKILL: its last will says remove; nothing clears its retained presence but a live node

        await WaitForMembersAsync(a, a, b);
        await WaitForMembersAsync(b, a, b);
        await Wait.UntilAsync(() => a.Output.Contains(Cleared(c)) || b.Output.Contains(Cleared(c)), "a live node clears the killed node's presence",
            detail: () => a.Output + b.Output);
        var (lowest, other) = string.CompareOrdinal(a.Address, b.Address) < 0 ? (a, b) : (b, a);
        Assert.Contains(Cleared(c), lowest.Output);
        Assert.DoesNotContain(Cleared(c), other.Output);

        var d = await StartAsync("d");
        await WaitForMembersAsync(d, a, b, d);
        foreach (var node in new[] { a, b }) await WaitForMembersAsync(node, a, b, d);
    }
}
