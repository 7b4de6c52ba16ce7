using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Observe;
using Motey.Host.Tests.Peers;
using Motey.Host.Tests.Security;

namespace Motey.Host.Tests.Api;

/// <summary>GET /v1/nodes/{ip}/status on in-process nodes over real HTTP and ZeroMQ: itself, a peer, and the ways a peer fails.</summary>
public sealed class NodeStatusApiTests : NodeTest
{
    [Fact]
    public async Task The_node_s_own_status_is_its_nodestatus()
    {
        var status = await Node.Client.GetFromJsonAsync<JsonElement>($"/v1/nodes/{Node.Address}/status");

        AssertNodeStatus(status);
    }

    [Fact]
    public async Task A_peer_s_status_is_read_through_this_node_and_counted_as_a_nodestatus_peer_request()
    {
        using var folderB = new TestFolder();
        await using var b = await TestNode.StartAsync(folderB, [TestNode.Simulated], new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = Node.Address,
        });
        await Wait.UntilAsync(async () => (await Node.Client.GetStringAsync("/v1/nodes")).Contains(b.Address, StringComparison.Ordinal), "node A knows node B");

        using var response = await Node.Client.GetAsync($"/v1/nodes/{b.Address}/status");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertNodeStatus(await response.Content.ReadFromJsonAsync<JsonElement>());
        var metrics = await MetricsApiTests.ScrapeAsync(Node.Client);
        Assert.Equal(1, metrics.Value("motey_peer_requests_total", ("kind", "nodestatus"), ("outcome", "ok")));
    }

    [Fact]
    public async Task An_address_that_is_no_known_node_is_404_naming_it()
    {
        var problem = await ProblemAsync("/v1/nodes/10.11.12.13/status", HttpStatusCode.NotFound);

        Assert.Equal("no node 10.11.12.13 is known to this node (see GET /v1/nodes)", problem.GetProperty("detail").GetString());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.5", problem.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("gateway", "'gateway' is not an IP address")]
    [InlineData("1", "'1' is not an IPv4 address in dotted decimal form such as 10.0.0.7")]
    [InlineData("300.1.1.1", "'300.1.1.1' is not an IP address")]
    public async Task A_path_that_is_no_ip_address_is_400(string ip, string expected)
    {
        var problem = await ProblemAsync($"/v1/nodes/{ip}/status", HttpStatusCode.BadRequest);

        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray().ToList());
        Assert.Equal(("ip", expected), (error.GetProperty("where").GetString(), error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task A_node_of_the_original_motey_is_501_saying_it_does_not_serve_node_status()
    {
        await using var original = new OriginalNode("""[{"capability": "x", "type": "hardware"}]""");
        await KnowAsync(original.Address);

        var problem = await ProblemAsync($"/v1/nodes/{original.Address}/status", HttpStatusCode.NotImplemented);

        Assert.Equal($"node {original.Address} does not serve node status: it answered like a node of the original Motey (or a Motey.NET from before this message)", problem.GetProperty("detail").GetString());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.6.2", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_node_that_does_not_answer_is_504_naming_it_and_the_timeout()
    {
        var silent = Loopback.NewAddress();
        await KnowAsync(silent);

        var problem = await ProblemAsync($"/v1/nodes/{silent}/status", HttpStatusCode.GatewayTimeout);

        Assert.Equal($"node {silent} did not answer on tcp://{silent}:5091 within 2 s", problem.GetProperty("detail").GetString());
        Assert.Equal(("Gateway timeout", "https://tools.ietf.org/html/rfc9110#section-15.6.5"), (problem.GetProperty("title").GetString(), problem.GetProperty("type").GetString()));
        var metrics = await MetricsApiTests.ScrapeAsync(Node.Client);
        Assert.Equal(1, metrics.Value("motey_peer_requests_total", ("kind", "nodestatus"), ("outcome", "timeout")));
    }

    [Theory]
    [InlineData("""motey-nodestatus/1 {"error": "could not read its status: /proc/meminfo is gone"}""",
        "answered the node status request with an error: could not read its status: /proc/meminfo is gone")]
    [InlineData("""motey-nodestatus/1 {"status": {"cpu": 1}}""",
        "gave an unreadable answer to the node status request (the answer has neither a complete status (cpu, memory, disk) nor an error)")]
    public async Task A_node_that_answers_with_an_error_or_nonsense_is_502_naming_it(string answer, string expected)
    {
        // The fake original node's capabilities replier answers whatever it is given: here, what a failing peer would.
        await using var peer = new OriginalNode(answer);
        await KnowAsync(peer.Address);

        var problem = await ProblemAsync($"/v1/nodes/{peer.Address}/status", HttpStatusCode.BadGateway);

        Assert.StartsWith($"node {peer.Address} {expected}", problem.GetProperty("detail").GetString());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.6.3", problem.GetProperty("type").GetString());
    }

    /// <summary>Puts <paramref name="address"/> on the node list, as membership does when a node registers.</summary>
    private Task KnowAsync(string address) => Node.Services.GetRequiredService<NodeRepository>().UpsertAsync(address);

    private async Task<JsonElement> ProblemAsync(string path, HttpStatusCode expected)
    {
        using var response = await Node.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static void AssertNodeStatus(JsonElement status)
    {
        Assert.InRange(status.GetProperty("cpu").GetDouble(), 0, 100);
        var memory = status.GetProperty("memory");
        Assert.Equal(["available", "free", "percent", "total", "used"], memory.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.True(memory.GetProperty("total").GetInt64() > 0);
        var disk = status.GetProperty("disk");
        Assert.Equal(["free", "percent", "total", "used"], disk.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.True(disk.GetProperty("total").GetInt64() > 0);
    }
}

/// <summary>The node status route under [WEBSERVER] tokens: a read is a read.</summary>
public sealed class NodeStatusTokenTests
{
    [Fact]
    public async Task A_read_token_reads_a_node_s_status_and_no_token_is_401()
    {
        await using var secured = await SecuredNode.StartAsync();
        using var read = secured.Client(SecuredNode.ReadToken);
        using var none = secured.Client(null);
        var path = $"/v1/nodes/{secured.Node.Address}/status";

        using var response = await read.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync(path)).StatusCode);
    }
}
