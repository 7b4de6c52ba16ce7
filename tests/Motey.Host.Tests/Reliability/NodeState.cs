using System.Net;
using System.Text.Json;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Reliability;

/// <summary>
/// What a node shows through its API: services and capabilities as their JSON, nodes as address and self flag
/// (their last-seen time is a liveness stamp that moves by design). Two equal states mean nothing was stored.
/// </summary>
internal sealed record NodeState(string Services, string Capabilities, string Nodes)
{
    public static async Task<NodeState> ReadAsync(HttpClient client)
    {
        var services = await client.GetStringAsync("/v1/service");
        var capabilities = await client.GetStringAsync("/v1/capabilities");
        using var nodes = JsonDocument.Parse(await client.GetStringAsync("/v1/nodes"));
        var members = nodes.RootElement.EnumerateArray()
            .Select(n => $"{n.GetProperty("ip").GetString()}{(n.GetProperty("self").GetBoolean() ? " (self)" : "")}");
        return new NodeState(services, capabilities, string.Join(", ", members));
    }

    /// <summary>
    /// The state once no service is on its way (INITIAL or INSTANTIATING): a request an earlier group wrongly accepted
    /// must not show up as a change caused by the next group.
    /// </summary>
    public static async Task<NodeState> ReadSettledAsync(HttpClient client)
    {
        NodeState state = null!;
        await Wait.UntilAsync(async () =>
        {
            state = await ReadAsync(client);
            using var services = JsonDocument.Parse(state.Services);
            return services.RootElement.EnumerateArray().All(s => s.GetProperty("state").GetInt32() > 1);
        }, "no service is INITIAL or INSTANTIATING");
        return state;
    }

    /// <summary>Fails unless the node answers its heartbeat with 204 and shows exactly <paramref name="before"/>.</summary>
    public static async Task AssertHealthyAndUnchangedAsync(HttpClient client, NodeState before, string after)
    {
        var heartbeat = await client.GetAsync("/v1/heartbeat");
        Assert.True(heartbeat.StatusCode == HttpStatusCode.NoContent,
            $"after {after} the heartbeat answers {(int)heartbeat.StatusCode}: {await heartbeat.Content.ReadAsStringAsync()}");
        var now = await ReadAsync(client);
        Assert.True(before == now, $"after {after} the node shows another state:\nbefore: {before}\nafter:  {now}");
    }

    /// <summary>A service posted and RUNNING and a capability of our own, so that "unchanged" has something to lose.</summary>
    public static async Task<TestNode> StartPopulatedNodeAsync(TestFolder folder, IReadOnlyDictionary<string, string>? settings = null)
    {
        var node = await TestNode.StartAsync(folder, settings: settings);
        var put = await node.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "corpus-gpu", "capability_type": "hardware"}]""", "application/json");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var post = await node.PostBlueprintAsync(RestCorpus.Blueprint());
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        using var created = JsonDocument.Parse(await post.Content.ReadAsStringAsync());
        await node.WaitForServiceAsync(created.RootElement.GetProperty("id").GetString()!, s => s.State == Motey.Host.Core.Model.ServiceState.Running);
        return node;
    }
}
