using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Api;

public sealed class NodeApiTests : NodeTest
{
    [Fact]
    public async Task Nodes_lists_this_node_itself()
    {
        var nodes = await Node.Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        var self = Assert.Single(nodes.EnumerateArray());
        Assert.Equal(Node.Address, self.GetProperty("ip").GetString());
        Assert.True(self.GetProperty("self").GetBoolean());
    }

    [Fact]
    public async Task Nodestatus_reports_cpu_memory_and_disk_in_the_original_shape()
    {
        var status = await Node.Client.GetFromJsonAsync<JsonElement>("/v1/nodestatus");
        var cpu = status.GetProperty("cpu").GetDouble();
        Assert.InRange(cpu, 0, 100);
        var memory = status.GetProperty("memory");
        Assert.True(memory.GetProperty("total").GetInt64() > 0);
        Assert.True(memory.GetProperty("available").GetInt64() <= memory.GetProperty("total").GetInt64());
        foreach (var key in new[] { "percent", "used", "free" }) Assert.True(memory.TryGetProperty(key, out _), key);
        var disk = status.GetProperty("disk");
        Assert.True(disk.GetProperty("total").GetInt64() > 0);
        foreach (var key in new[] { "used", "free", "percent" }) Assert.True(disk.TryGetProperty(key, out _), key);
    }

    [Fact]
    public async Task Heartbeat_answers_204_when_healthy()
    {
        var response = await Node.Client.GetAsync("/v1/heartbeat");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Heartbeat_answers_400_naming_the_check_when_the_database_is_gone()
    {
        var database = Path.Combine(FolderPath, "data");
        Directory.Delete(database, recursive: true);
        File.WriteAllText(Path.Combine(FolderPath, "data"), "not a folder any more");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();  // pooled connections would still hold the unlinked file
        var response = await Node.Client.GetAsync("/v1/heartbeat");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("database", await ServiceApiTests.ProblemDetailAsync(response));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Node.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Healthz_answers_200_when_healthy()
    {
        // Degraded (also 200) for the moment after the start until membership has joined the node's own broker.
        await Wait.UntilAsync(async () => await (await Node.Client.GetAsync("/healthz")).Content.ReadAsStringAsync() == "Healthy",
            "/healthz says Healthy once membership joined");
        var response = await Node.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Openapi_document_lists_the_routes()
    {
        var doc = await Node.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/v1/service", "/v1/service/{id}", "/v1/capabilities", "/v1/nodes", "/v1/nodestatus", "/v1/heartbeat", "/v1/plugins" })
            Assert.True(paths.TryGetProperty(path, out _), path);
    }

    [Fact]
    public async Task Unknown_routes_answer_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Node.Client.GetAsync("/v2/nothing")).StatusCode);
    }
}
