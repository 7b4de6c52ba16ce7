using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Api;

public sealed class CapabilitiesApiTests : NodeTest
{
    private const string Gpu = """[{"capability": "gpu", "capability_type": "hardware"}]""";

    private Task<HttpResponseMessage> Put(string json, string contentType = "application/json") =>
        Node.SendAsync(HttpMethod.Put, "/v1/capabilities", json, contentType);

    private Task<HttpResponseMessage> Delete(string json, string contentType = "application/json") =>
        Node.SendAsync(HttpMethod.Delete, "/v1/capabilities", json, contentType);

    private async Task<List<Capability>> ListAsync() => (await Node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;

    [Fact]
    public async Task Get_lists_the_plugin_capabilities_of_the_active_plugins()
    {
        var list = await ListAsync();
        Assert.Contains(new Capability("process", "plugin"), list);
        Assert.Contains(new Capability("simulated", "plugin"), list);
    }

    [Fact]
    public async Task Put_with_a_new_capability_returns_201_and_lists_it()
    {
        Assert.Equal(HttpStatusCode.Created, (await Put(Gpu)).StatusCode);
        Assert.Contains(new Capability("gpu", "hardware"), await ListAsync());
    }

    [Fact]
    public async Task Put_with_no_new_capability_returns_304()
    {
        await Put(Gpu);
        Assert.Equal(HttpStatusCode.NotModified, (await Put(Gpu)).StatusCode);
    }

    [Fact]
    public async Task Put_with_one_new_among_known_ones_returns_201()
    {
        await Put(Gpu);
        var response = await Put("""[{"capability": "gpu", "capability_type": "hardware"}, {"capability": "camera", "capability_type": "hardware"}]""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains(new Capability("camera", "hardware"), await ListAsync());
    }

    [Fact]
    public async Task Delete_of_an_existing_capability_returns_201_and_removes_it()
    {
        await Put(Gpu);
        Assert.Equal(HttpStatusCode.Created, (await Delete(Gpu)).StatusCode);
        Assert.DoesNotContain(new Capability("gpu", "hardware"), await ListAsync());
    }

    [Fact]
    public async Task Delete_of_an_unknown_capability_returns_304()
    {
        Assert.Equal(HttpStatusCode.NotModified, (await Delete(Gpu)).StatusCode);
    }

    [Theory]
    [InlineData("""[{"capability": "gpu"}]""", "capability_type")]
    [InlineData("""{"capability": "gpu", "capability_type": "hardware"}""", "$")]
    [InlineData("""[{"capability": 5, "capability_type": "hardware"}]""", "$[0].capability")]
    [InlineData("""[{"capability": "gpu", "capability_type": "hardware", "x": 1}]""", "x")]
    [InlineData("""[{"capability": "gpu", "capability_type": "hardware"}""", "line")]
    [InlineData("[]", "$")]
    [InlineData("""[{"capability": "docker", "capability_type": "plugin"}]""", "$[0].capability_type")]
    public async Task Invalid_capability_lists_are_refused_with_400_and_change_nothing(string json, string where)
    {
        var before = await ListAsync();
        foreach (var response in new[] { await Put(json), await Delete(json) })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(where, await ServiceApiTests.ProblemDetailAsync(response));
        }
        Assert.Equal(before, await ListAsync());
    }

    [Fact]
    public async Task Capabilities_in_a_wrong_content_type_are_refused_with_415()
    {
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Put(Gpu, "text/plain")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Delete(Gpu, "application/x-yaml")).StatusCode);
        Assert.DoesNotContain(new Capability("gpu", "hardware"), await ListAsync());
    }

    [Fact]
    public async Task Get_answers_the_bytes_and_content_type_Results_Json_writes_for_the_same_capabilities()
    {
        await Put("""[{"capability": "café <b>&'\"", "capability_type": "边缘"}, {"capability": "grüß 👋", "capability_type": "hardware"}]""");
        var capabilities = Node.Services.GetRequiredService<CapabilityRepository>();

        var (expected, contentType) = await Node.ResultsJsonAsync((await capabilities.AllAsync()).ToList());
        var response = await Node.Client.GetAsync("/v1/capabilities");

        Assert.Equal(contentType, response.Content.Headers.ContentType!.ToString());
        Assert.Equal("application/json; charset=utf-8", contentType);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(body));
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Every_put_and_delete_is_visible_to_the_very_next_get()
    {
        var camera = new Capability("camera", "hardware");
        Assert.DoesNotContain(camera, await ListAsync());  // cached without it
        for (var round = 0; round < 5; round++)
        {
            await Put("""[{"capability": "camera", "capability_type": "hardware"}]""");
            Assert.Contains(camera, await ListAsync());
            await Delete("""[{"capability": "camera", "capability_type": "hardware"}]""");
            Assert.DoesNotContain(camera, await ListAsync());
        }
    }

    [Fact]
    public async Task Put_with_a_known_name_and_another_type_returns_304_and_keeps_the_entry_as_the_original_did()
    {
        Assert.Equal(HttpStatusCode.Created, (await Put(Gpu)).StatusCode);

        Assert.Equal(HttpStatusCode.NotModified, (await Put("""[{"capability": "gpu", "capability_type": "api"}]""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, (await Put("""[{"capability": "simulated", "capability_type": "hardware"}]""")).StatusCode);

        var list = await ListAsync();
        Assert.Single(list, c => c.Name == "gpu");
        Assert.Contains(new Capability("gpu", "hardware"), list);
        Assert.Single(list, c => c.Name == "simulated");
        Assert.Contains(new Capability("simulated", "plugin"), list);
    }

    [Fact]
    public async Task Delete_needs_the_name_and_the_type_and_answers_304_for_a_name_held_with_another_type()
    {
        await Put(Gpu);

        Assert.Equal(HttpStatusCode.NotModified, (await Delete("""[{"capability": "gpu", "capability_type": "api"}]""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, (await Delete("""[{"capability": "simulated", "capability_type": "hardware"}]""")).StatusCode);
        Assert.Contains(new Capability("gpu", "hardware"), await ListAsync());
        Assert.Contains(new Capability("simulated", "plugin"), await ListAsync());

        Assert.Equal(HttpStatusCode.Created, (await Delete(Gpu)).StatusCode);
        Assert.DoesNotContain(await ListAsync(), c => c.Name == "gpu");
    }

    [Fact]
    public async Task An_engines_plugin_capability_takes_over_an_entry_of_its_name_when_the_plugin_activates()
    {
        using var folder = new TestFolder();
        await using (var before = await TestNode.StartAsync(folder, [TestNode.Process]))
        {
            var put = await before.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability": "simulated", "capability_type": "hardware"}]""", "application/json");
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await using var after = await TestNode.StartAsync(folder, [TestNode.Process, TestNode.Simulated]);

        var list = (await after.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;
        Assert.Equal([new Capability("simulated", "plugin")], list.Where(c => c.Name == "simulated"));
        var service = await after.PostBlueprintAsync("service_name: runs\nimages:\n- name: a\n  engine: simulated\n");
        Assert.Equal(HttpStatusCode.Created, service.StatusCode);
    }
}
