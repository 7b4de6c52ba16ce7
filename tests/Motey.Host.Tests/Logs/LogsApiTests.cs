using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Logs;

/// <summary>GET /v1/service/{id}/logs on an in-process node over real HTTP, reading the compiled Simulated VAL (a line every 50 ms).</summary>
public sealed class LogsApiTests : IAsyncLifetime
{
    private const string Web = "service_name: demo\nimages:\n- name: web\n  engine: simulated\n";

    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(
        plugins: [TestNode.Simulated, TestNode.Flaky],
        settings: new Dictionary<string, string> { ["SIMULATED:log_interval_ms"] = "50" });

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_running_simulated_image_shows_its_lines_as_text()
    {
        var service = await DeployRunningAsync(Web);
        var instance = service.Images[0].Id;

        var text = await WaitForLinesAsync(service.Id, 4);

        var lines = Lines(text);
        Assert.Equal($"simulated instance {instance} of web starting", lines[0]);
        Assert.Equal($"simulated instance {instance} of web running", lines[1]);
        Assert.Equal($"simulated instance {instance} of web: line 1", lines[2]);
        var response = await _node.Client.GetAsync($"/v1/service/{service.Id}/logs");
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Tail_keeps_only_the_last_lines()
    {
        var service = await DeployRunningAsync(Web);
        await WaitForLinesAsync(service.Id, 6);

        var lines = Lines(await _node.Client.GetStringAsync($"/v1/service/{service.Id}/logs?tail=2"));

        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Matches(": line [0-9]+$", l));
        Assert.Equal("", await _node.Client.GetStringAsync($"/v1/service/{service.Id}/logs?tail=0"));
    }

    [Fact]
    public async Task Timestamps_put_each_line_s_time_before_it()
    {
        var service = await DeployRunningAsync(Web);
        await WaitForLinesAsync(service.Id, 3);

        var lines = Lines(await _node.Client.GetStringAsync($"/v1/service/{service.Id}/logs?timestamps=true&image=web"));

        Assert.All(lines, l => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z simulated instance ", l));
        var first = DateTimeOffset.Parse(lines[0].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(first, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Ndjson_is_one_log_line_object_per_line_when_accept_asks_for_it()
    {
        var service = await DeployRunningAsync(Web);
        await WaitForLinesAsync(service.Id, 3);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/service/{service.Id}/logs?image=0");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        using var response = await _node.Client.SendAsync(request);

        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var raw = Lines(await response.Content.ReadAsStringAsync());
        Assert.True(raw.Length >= 3);
        using (var first = JsonDocument.Parse(raw[0]))
        {
            Assert.Equal(["stream", "text", "time"], first.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal("stdout", first.RootElement.GetProperty("stream").GetString());
        }
        var lines = raw.Select(l => JsonSerializer.Deserialize<LogLine>(l)!).ToList();
        Assert.All(lines, l => Assert.NotNull(l.Time));
        Assert.EndsWith("of web starting", lines[0].Text);
        Assert.EndsWith("of web running", lines[1].Text);
    }

    [Fact]
    public async Task Follow_streams_new_lines_and_ends_when_the_service_is_deleted()
    {
        var service = await DeployRunningAsync(Web);
        using var client = new HttpClient { BaseAddress = _node.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.GetAsync($"/v1/service/{service.Id}/logs?follow=true&tail=0", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));

        // tail=0: only lines printed after the request, read as they come.
        var streamed = new List<string>();
        while (streamed.Count < 3) streamed.Add((await reader.ReadLineAsync(deadline.Token))!);
        Assert.All(streamed, l => Assert.Matches(": line [0-9]+$", l));

        Assert.Equal(HttpStatusCode.Accepted, (await _node.Client.DeleteAsync($"/v1/service/{service.Id}")).StatusCode);
        string? last = null;
        while (await reader.ReadLineAsync(deadline.Token) is { } line) last = line;
        Assert.Equal($"simulated instance {service.Images[0].Id} of web stopped", last);
    }

    [Fact]
    public async Task A_long_log_that_is_always_ready_streams_before_it_has_all_been_read()
    {
        // About 50 MB of lines the VAL hands over without ever pausing: far more than the socket buffers hold, so
        // the first line can only reach a reader that reads no further if the node flushed while lines were still coming.
        var service = await DeployRunningAsync("service_name: chatty\nimages:\n- name: chatty\n  engine: flaky\n");
        var readToEnd = Path.Combine(_node.Folder.Path, "data", "plugins", "flaky", "chatty-read");
        using var client = new HttpClient { BaseAddress = _node.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.GetAsync($"/v1/service/{service.Id}/logs", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));

        Assert.Equal("chatty line 0000001 of 1000000, always ready", await reader.ReadLineAsync(deadline.Token));

        Assert.False(File.Exists(readToEnd), "the node read the whole log before the reader got its first line");
    }

    [Fact]
    public async Task A_follower_of_a_quiet_instance_who_leaves_at_once_closes_the_reader_and_the_node_stays_well()
    {
        var service = await DeployRunningAsync("service_name: quiet\nimages:\n- name: quiet\n  engine: flaky\n");
        var closed = Path.Combine(_node.Folder.Path, "data", "plugins", "flaky", "quiet-closed");
        using (var client = new HttpClient { BaseAddress = _node.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan })
        using (var leave = new CancellationTokenSource())
        {
            // Gone within the node's first-line wait: the VAL's reader is then still waiting for its first line.
            var request = client.GetAsync($"/v1/service/{service.Id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead, leave.Token);
            await Wait.UntilAsync(() => File.Exists(Path.Combine(_node.Folder.Path, "data", "plugins", "flaky", "quiet-opened")), "the node waits for the first line");
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        }

        await Wait.UntilAsync(() => File.Exists(closed), "the VAL's log reader is disposed");
        // The node still answers, the same route included.
        Assert.Equal("", await _node.Client.GetStringAsync($"/v1/service/{service.Id}/logs?tail=0"));
    }

    [Fact]
    public async Task An_unknown_service_is_404()
    {
        var problem = await ProblemAsync("/v1/service/nope/logs", HttpStatusCode.NotFound);
        Assert.Equal("no service with id 'nope'", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_unknown_image_is_404_and_several_images_need_a_choice()
    {
        var service = await DeployRunningAsync("service_name: two\nimages:\n- name: web\n  engine: simulated\n- name: db\n  engine: simulated\n");

        var byIndex = await ProblemAsync($"/v1/service/{service.Id}/logs?image=7", HttpStatusCode.NotFound);
        Assert.Equal($"service {service.Id} has no image 7; it has 2 images: 0 (web), 1 (db)", byIndex.GetProperty("detail").GetString());
        var byName = await ProblemAsync($"/v1/service/{service.Id}/logs?image=cache", HttpStatusCode.NotFound);
        Assert.Contains("has no image named 'cache'", byName.GetProperty("detail").GetString());
        var none = await ProblemAsync($"/v1/service/{service.Id}/logs", HttpStatusCode.BadRequest);
        Assert.Equal($"service {service.Id} has 2 images: 0 (web), 1 (db); choose one with ?image=", none.GetProperty("detail").GetString());
        Assert.Contains("of db starting", await _node.Client.GetStringAsync($"/v1/service/{service.Id}/logs?image=db"));
        Assert.Contains("of web starting", await _node.Client.GetStringAsync($"/v1/service/{service.Id}/logs?image=0"));
    }

    [Fact]
    public async Task An_image_without_an_instance_is_409_with_its_state()
    {
        var created = await CreateAsync("service_name: waits\nimages:\n- name: web\n  engine: simulated\n  capabilities: [nowhere]\n");
        await _node.WaitForServiceAsync(created.Id, s => s.Images[0].StateMessage.Length > 0);

        var problem = await ProblemAsync($"/v1/service/{created.Id}/logs", HttpStatusCode.Conflict);

        Assert.StartsWith($"image 0 (web) of service {created.Id} has no instance now: it is INITIAL", problem.GetProperty("detail").GetString());
        Assert.Equal(0, problem.GetProperty("state").GetInt32());
    }

    [Fact]
    public async Task An_engine_without_logs_is_501_with_the_val_s_reason()
    {
        var service = await DeployRunningAsync("service_name: flaky\nimages:\n- name: web\n  engine: flaky\n");

        var problem = await ProblemAsync($"/v1/service/{service.Id}/logs", HttpStatusCode.NotImplemented);

        Assert.Equal("the 'flaky' VAL does not provide instance logs", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("tail=-1", "query.tail: expected a whole number >= 0")]
    [InlineData("tail=ten", "query.tail: expected a whole number >= 0")]
    [InlineData("follow=yes", "query.follow: expected true or false, got 'yes'")]
    [InlineData("timestamps=1", "query.timestamps: expected true or false")]
    [InlineData("tial=5", "query.tial: unknown parameter; known: image, tail, follow, timestamps")]
    [InlineData("tail=1&tail=2", "query.tail: given 2 times")]
    public async Task A_bad_query_is_400_naming_the_parameter(string query, string expected)
    {
        var service = await DeployRunningAsync(Web);

        var problem = await ProblemAsync($"/v1/service/{service.Id}/logs?{query}", HttpStatusCode.BadRequest);

        Assert.StartsWith(expected, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_node_of_the_original_motey_is_502_saying_it_has_no_logs()
    {
        await using var original = new OriginalNode("""[{"capability": "x", "type": "hardware"}]""");
        var service = await CreateAsync("service_name: far\nimages:\n- name: web\n  engine: simulated\n  capabilities: [nowhere]\n");
        // As if it had been placed there: the instance runs on the original node.
        await PlaceAsIfAsync(service.Id, OriginalNode.InstanceId, original.Address);

        var problem = await ProblemAsync($"/v1/service/{service.Id}/logs", HttpStatusCode.BadGateway);

        Assert.Equal($"node {original.Address} does not serve logs: it answered like a node of the original Motey (or a Motey.NET from before this message)", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_node_that_does_not_answer_is_502_naming_it_and_the_timeout()
    {
        var silent = Loopback.NewAddress();
        var service = await CreateAsync("service_name: gone\nimages:\n- name: web\n  engine: simulated\n  capabilities: [nowhere]\n");
        await PlaceAsIfAsync(service.Id, "sim-far", silent);

        var problem = await ProblemAsync($"/v1/service/{service.Id}/logs", HttpStatusCode.BadGateway);

        Assert.Equal($"node {silent} did not answer on tcp://{silent}:5091 within 2 s", problem.GetProperty("detail").GetString());
    }

    /// <summary>
    /// Stores image 0 as running <paramref name="instance"/> on <paramref name="node"/>, once the node's own first placement
    /// attempt (it waits: no node has capability nowhere) has been written, so that write cannot overwrite this one.
    /// </summary>
    private async Task PlaceAsIfAsync(string serviceId, string instance, string node)
    {
        var store = _node.Services.GetRequiredService<ServiceRepository>();
        await Wait.UntilAsync(async () => (await store.GetAsync(serviceId))!.Images[0].StateMessage.Length > 0, "the image waits for a node");
        var stored = (await store.GetAsync(serviceId))!;
        await store.UpdateAsync(stored with { Images = [stored.Images[0] with { Id = instance, Node = node, State = ImageState.Running, StateMessage = "" }] });
    }

    [Fact]
    public async Task The_openapi_document_describes_the_query_both_formats_and_every_error()
    {
        using var document = JsonDocument.Parse(await _node.Client.GetStringAsync("/openapi/v1.json"));
        var get = document.RootElement.GetProperty("paths").GetProperty("/v1/service/{id}/logs").GetProperty("get");

        var query = get.GetProperty("parameters").EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query");
        Assert.Equal(["follow", "image", "tail", "timestamps"], query.Select(p => p.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.All(query, p => Assert.False(string.IsNullOrEmpty(p.GetProperty("description").GetString())));
        var responses = get.GetProperty("responses");
        Assert.Equal(["200", "400", "404", "409", "500", "501", "502"], responses.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["application/x-ndjson", "text/plain"],
            responses.GetProperty("200").GetProperty("content").EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    private async Task<Service> CreateAsync(string yaml)
    {
        var response = await _node.PostBlueprintAsync(yaml);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    private async Task<Service> DeployRunningAsync(string yaml)
    {
        var created = await CreateAsync(yaml);
        return await _node.WaitForServiceAsync(created.Id, s => s.Images.All(i => i.State == ImageState.Running));
    }

    private Task<string> WaitForLinesAsync(string id, int count) =>
        Wait.ForAsync(() => _node.Client.GetStringAsync($"/v1/service/{id}/logs"), text => Lines(text).Length >= count,
            $"service {id} has printed {count} lines", text => text);

    private async Task<JsonElement> ProblemAsync(string path, HttpStatusCode expected)
    {
        using var response = await _node.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The logs route under [WEBSERVER] tokens: a read is a read.</summary>
public sealed class LogsTokenTests
{
    [Fact]
    public async Task A_read_token_reads_logs_and_no_token_is_401()
    {
        await using var secured = await Motey.Host.Tests.Security.SecuredNode.StartAsync();
        using var admin = secured.Client(Motey.Host.Tests.Security.SecuredNode.AdminToken);
        using var read = secured.Client(Motey.Host.Tests.Security.SecuredNode.ReadToken);
        using var none = secured.Client(null);
        var created = await admin.PostAsync("/v1/service", new StringContent("service_name: demo\nimages:\n- name: web\n  engine: simulated\n",
            System.Text.Encoding.UTF8, "application/x-yaml"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<Service>())!.Id;

        var (code, text) = await Wait.ForAsync(async () =>
            {
                using var response = await read.GetAsync($"/v1/service/{id}/logs");
                return (response.StatusCode, await response.Content.ReadAsStringAsync());
            }, r => r.StatusCode == HttpStatusCode.OK && r.Item2.Contains(" of web starting", StringComparison.Ordinal),
            "the read token reads the instance's lines", r => $"{(int)r.StatusCode}: {r.Item2}");

        Assert.Equal(HttpStatusCode.OK, code);
        Assert.StartsWith("simulated instance ", text);
        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync($"/v1/service/{id}/logs")).StatusCode);
    }
}
