using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Api;

public sealed class ServiceApiTests : NodeTest
{
    private const string Simulated = """
        service_name: demo
        images:
        - name: web
          engine: simulated
        """;

    [Fact]
    public async Task Get_with_no_services_returns_an_empty_list_not_null()
    {
        var response = await Node.Client.GetAsync("/v1/service");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/x-yaml")]
    [InlineData("application/yaml")]
    [InlineData("text/yaml")]
    [InlineData("application/x-yaml; charset=utf-8")]
    public async Task Post_accepts_every_yaml_content_type_and_answers_201_with_location(string contentType)
    {
        var response = await Node.SendAsync(HttpMethod.Post, "/v1/service", Simulated, contentType);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        Assert.Matches("^[0-9a-f]{32}$", service.Id);
        Assert.Equal("demo", service.ServiceName);
        Assert.Equal($"/v1/service/{service.Id}", response.Headers.Location!.OriginalString);
        var stored = await Node.GetServiceAsync(service.Id);
        Assert.Equal("web", stored.Images.Single().Name);
    }

    [Fact]
    public async Task Posted_simulated_service_reaches_running_and_lists_its_node()
    {
        var created = (await (await Node.PostBlueprintAsync(Simulated)).Content.ReadFromJsonAsync<Service>())!;
        var running = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var image = running.Images.Single();
        Assert.Equal(ImageState.Running, image.State);
        Assert.Equal(Node.Address, image.Node);
        Assert.NotEqual("", image.Id);
        var all = await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service");
        Assert.Contains(all!, s => s.Id == created.Id && s.State == ServiceState.Running);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData(null)]
    [InlineData("application/x-yaml; charset=latin1")]
    public async Task Post_with_a_wrong_content_type_is_refused_with_415_and_stores_nothing(string? contentType)
    {
        var response = await Node.SendAsync(HttpMethod.Post, "/v1/service", Simulated, contentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("content type", await ProblemDetailAsync(response), StringComparison.OrdinalIgnoreCase);
        await AssertNoServicesAsync();
    }

    [Theory]
    [InlineData("service_name: [unclosed\nimages: x", "line")]
    [InlineData("service_name: demo\n", "images")]
    [InlineData("service_name: demo\nimages: []\n", "images")]
    [InlineData("service_name: demo\nimages:\n- name: a\n  engine: simulated\n  capabilities: [gpu, gpu]\n", "images[0].capabilities[1]")]
    [InlineData("service_name: [1, 2]\nimages:\n- name: a\n  engine: simulated\n", "service_name")]
    [InlineData("service_name: demo\nimages:\n- name: a\n  engine: simulated\n  parameters: [1]\n", "images[0].parameters")]
    [InlineData("service_name: demo\nimages:\n- name: a\n  engine: Warp Drive\n", "images[0].engine")]
    [InlineData("service_name: demo\nimage: x\nimages:\n- name: a\n  engine: simulated\n", "did you mean 'images'?")]
    [InlineData("service_name: demo\nimages:\n- name: a\n  engine: simulated\n  parameters: {colour: red}\n", "images[0].parameters.colour")]
    [InlineData("service_name: demo\nimages:\n- name: a\n  engine: process\n  parameters: {args: {a: 1}}\n", "images[0].parameters.args")]
    [InlineData("!!python/object/apply:os.system [\"touch /tmp/pwned\"]", "python")]
    public async Task Post_with_an_invalid_blueprint_is_refused_with_400_naming_where_and_stores_nothing(string yaml, string where)
    {
        var response = await Node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(where, await ProblemDetailAsync(response));
        await AssertNoServicesAsync();
    }

    [Fact]
    public async Task Post_with_bytes_that_are_not_utf8_is_refused_with_400()
    {
        var content = new ByteArrayContent([0x73, 0x65, 0xff, 0xfe, 0x0a]);
        content.Headers.ContentType = new("application/x-yaml");
        var response = await Node.Client.PostAsync("/v1/service", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("UTF-8", await ProblemDetailAsync(response));
        await AssertNoServicesAsync();
    }

    [Fact]
    public async Task Post_larger_than_the_body_limit_is_refused_with_413()
    {
        var yaml = Simulated + "# " + new string('x', 1_100_000) + "\n";
        var response = await Node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertNoServicesAsync();
    }

    [Fact]
    public async Task An_engine_no_plugin_here_provides_is_accepted_and_waits_for_a_node_with_its_plugin_capability()
    {
        var created = await CreateAsync("service_name: elsewhere\nimages:\n- name: a\n  engine: warpdrive\n  parameters: {anything: [goes]}\n");

        var waiting = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Contains("engine 'warpdrive' (capability 'warpdrive' of type plugin)", waiting.StateMessage);
        Assert.Null(waiting.Images.Single().Node);
        // Still refused at once: what no node could read the same, whatever plugin it has.
        var restart = await Node.PostBlueprintAsync("service_name: elsewhere-2\nimages:\n- name: a\n  engine: warpdrive\n  parameters: {restart_policy: sometimes}\n");
        Assert.Equal(HttpStatusCode.BadRequest, restart.StatusCode);
        Assert.Contains("images[0].parameters.restart_policy", await ProblemDetailAsync(restart));
    }

    [Fact]
    public async Task Extra_top_level_keys_are_accepted_and_ignored_and_the_log_names_them_with_their_lines()
    {
        var created = await CreateAsync("version: '2'\nservice_name: extra\nimages:\n- name: a\n  engine: simulated\ndescription: from the original\n");

        await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        Assert.Equal("extra", created.ServiceName);
        await Wait.UntilAsync(() => LogText().Contains("Blueprint extra: top-level keys this agent does not read are ignored: 'version' (line 1), 'description' (line 6)", StringComparison.Ordinal),
            "the log names the ignored keys", detail: LogText);
    }

    private string LogText() =>
        string.Concat(Directory.GetFiles(Path.Combine(FolderPath, "logs")).Select(f =>
        {
            using var reader = new StreamReader(new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            return reader.ReadToEnd();
        }));

    [Fact]
    public async Task Image_needing_a_capability_the_node_lacks_waits_naming_it_and_runs_once_the_capability_is_added()
    {
        var created = await CreateAsync("service_name: needs-late-gpu\nimages:\n- name: a\n  engine: simulated\n  capabilities: [late-gpu]\n");
        var waiting = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));
        Assert.Contains("capability 'late-gpu'", waiting.StateMessage);
        Assert.Equal(ImageState.Initial, waiting.Images.Single().State);

        var put = await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability":"late-gpu","capability_type":"hardware"}]""", "application/json");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var running = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        Assert.Equal("", running.StateMessage);
    }

    [Fact]
    public async Task Image_whose_capability_was_added_over_rest_runs()
    {
        var put = await Node.SendAsync(HttpMethod.Put, "/v1/capabilities", """[{"capability":"gpu","capability_type":"hardware"}]""", "application/json");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var created = await CreateAsync("service_name: needs-gpu\nimages:\n- name: a\n  engine: simulated\n  capabilities: [gpu]\n");
        await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
    }

    [Fact]
    public async Task Simulated_failure_makes_the_service_error()
    {
        var created = await CreateAsync("service_name: doomed\nimages:\n- name: a\n  engine: simulated\n  parameters: {fail: true}\n");
        var failed = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Error);
        Assert.Equal(ImageState.Error, failed.Images.Single().State);
    }

    [Fact]
    public async Task Delete_by_yaml_name_terminates_the_service_with_201()
    {
        var created = await CreateAsync(Simulated);
        await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);
        var response = await Node.SendAsync(HttpMethod.Delete, "/v1/service", "service_name: demo\n", "application/x-yaml");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var terminated = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
        Assert.All(terminated.Images, i => Assert.Equal(ImageState.Terminated, i.State));
    }

    [Fact]
    public async Task Delete_by_yaml_id_terminates_only_that_service()
    {
        var first = await CreateAsync(Simulated);
        var second = await CreateAsync(Simulated.Replace("demo", "demo-2", StringComparison.Ordinal));
        await Node.WaitForServiceAsync(second.Id, s => s.State == ServiceState.Running);
        var response = await Node.SendAsync(HttpMethod.Delete, "/v1/service", $"id: {first.Id}\n", "application/x-yaml");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await Node.WaitForServiceAsync(first.Id, s => s.State == ServiceState.Terminated);
        Assert.Equal(ServiceState.Running, (await Node.GetServiceAsync(second.Id)).State);
    }

    [Fact]
    public async Task Delete_by_id_route_answers_202_and_terminates()
    {
        var created = await CreateAsync(Simulated);
        var response = await Node.Client.DeleteAsync($"/v1/service/{created.Id}");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
    }

    [Fact]
    public async Task Unknown_service_ids_and_names_answer_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Node.Client.GetAsync("/v1/service/0123")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Node.Client.DeleteAsync("/v1/service/0123")).StatusCode);
        var byName = await Node.SendAsync(HttpMethod.Delete, "/v1/service", "service_name: nobody\n", "application/x-yaml");
        Assert.Equal(HttpStatusCode.NotFound, byName.StatusCode);
        Assert.Contains("nobody", await ProblemDetailAsync(byName));
    }

    [Fact]
    public async Task Delete_with_a_malformed_body_answers_400()
    {
        var response = await Node.SendAsync(HttpMethod.Delete, "/v1/service", "images: []\n", "application/x-yaml");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var wrongType = await Node.SendAsync(HttpMethod.Delete, "/v1/service", "service_name: demo", "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
    }

    [Fact]
    public async Task Get_list_answers_the_bytes_and_content_type_Results_Json_writes_for_the_same_services()
    {
        // Non-ASCII and HTML-sensitive characters, parameters: whatever the encoder escapes must come out the same.
        var first = await CreateAsync("service_name: café <b>&'\"\nnode_type: 边缘\nimages:\n- name: grüß-👋\n  engine: simulated\n  parameters: {start_delay_ms: 20, fail: false}\n");
        var second = await CreateAsync(Simulated);
        foreach (var id in new[] { first.Id, second.Id }) await Node.WaitForServiceAsync(id, s => s.State == ServiceState.Running);
        var services = Node.Services.GetRequiredService<ServiceRepository>();

        var (expected, _) = await Node.ResultsJsonAsync((await services.AllAsync()).ToList());
        var response = await Node.Client.GetAsync("/v1/service");

        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(body));
        Assert.Equal(expected, body);
        var singles = new List<string>();
        foreach (var id in new[] { first.Id, second.Id }) singles.Add(await Node.Client.GetStringAsync($"/v1/service/{id}"));
        Assert.Equal($"[{string.Join(",", singles)}]", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task A_posted_service_is_listed_by_the_very_next_get_and_its_state_changes_show_up_in_the_list()
    {
        Assert.Empty((await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!);  // a cached empty list
        var created = await CreateAsync(Simulated);

        var listed = Assert.Single((await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!);
        Assert.Equal(created.Id, listed.Id);
        Assert.Equal(created.Id, (await Node.GetServiceAsync(created.Id)).Id);
        await Wait.UntilAsync(async () => (await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!.Single().State == ServiceState.Running,
            "the list shows the state the orchestrator wrote");
        await Node.Client.DeleteAsync($"/v1/service/{created.Id}");
        await Wait.UntilAsync(async () => (await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!.Single().State == ServiceState.Terminated,
            "the list shows the termination the orchestrator wrote");
    }

    [Fact]
    public async Task A_second_post_of_a_name_a_live_service_has_is_refused_with_409_naming_the_existing_id()
    {
        var first = await CreateAsync(Simulated);
        var response = await Node.PostBlueprintAsync(Simulated);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(first.Id, await ProblemDetailAsync(response));
        Assert.Single((await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!);
    }

    [Fact]
    public async Task Delete_answers_with_the_state_after_the_request_and_a_second_delete_removes_the_terminated_service()
    {
        var created = await CreateAsync(Simulated);
        await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);

        var response = await Node.Client.DeleteAsync($"/v1/service/{created.Id}");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(ServiceState.Stopping, (await response.Content.ReadFromJsonAsync<Service>())!.State);
        var terminated = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Terminated);
        Assert.Equal("", terminated.StateMessage);

        Assert.Equal(HttpStatusCode.NoContent, (await Node.Client.DeleteAsync($"/v1/service/{created.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Node.Client.GetAsync($"/v1/service/{created.Id}")).StatusCode);
        await AssertNoServicesAsync();
        // The name is free again.
        await CreateAsync(Simulated);
    }

    [Fact]
    public async Task The_instances_this_node_runs_are_listed_with_their_service_and_placing_node()
    {
        var created = await CreateAsync(Simulated);
        var running = await Node.WaitForServiceAsync(created.Id, s => s.State == ServiceState.Running);

        var instances = (await Node.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/instances"))!;

        var instance = Assert.Single(instances);
        Assert.Equal(running.Images[0].Id, instance.GetProperty("id").GetString());
        Assert.Equal("simulated", instance.GetProperty("engine").GetString());
        Assert.Equal(created.Id, instance.GetProperty("service_id").GetString());
        Assert.Equal("0", instance.GetProperty("image_index").GetString());
        Assert.Equal(running.Images[0].Node, instance.GetProperty("placed_by").GetString());
        Assert.Equal("1", instance.GetProperty("generation").GetString());
    }

    private async Task<Service> CreateAsync(string yaml)
    {
        var response = await Node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    private async Task AssertNoServicesAsync() =>
        Assert.Empty((await Node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!);

    internal static async Task<string> ProblemDetailAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("detail").GetString() ?? "";
    }
}
