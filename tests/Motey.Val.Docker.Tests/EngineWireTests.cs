using System.Text.Json;
using Motey.Abstractions;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// The health ping and the container list, asked as plain HTTP/1.0 over the engine's socket (not through Docker.DotNet):
/// what they send, how they read the engine's answers, and that refusals and nonsense read as they did through the client.
/// </summary>
public sealed class EngineWireTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new("motey-docker-wire-");
    private readonly DockerVal _val = new();
    private CannedEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _engine = new CannedEngine(Path.Combine(_folder.Path, "engine.sock"));
        await _val.ActivateAsync(Context(new Dictionary<string, string?> { ["url"] = _engine.Url }), default);
    }

    public async Task DisposeAsync()
    {
        await _val.DeactivateAsync(default);
        _engine.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task The_ping_is_a_get_of_ping_and_an_ok_makes_the_engine_available()
    {
        _engine.Answer("/_ping", CannedEngine.Http(200, "OK", "OK", "text/plain; charset=utf-8"));

        Assert.Equal(EngineHealth.Available, await _val.CheckEngineAsync(default));
        Assert.Equal(["GET /_ping HTTP/1.0"], _engine.Requests);
    }

    [Fact]
    public async Task An_answer_whose_connection_stays_open_ends_at_its_content_length()
    {
        _engine.KeepOpen = true;
        _engine.Answer("/_ping", CannedEngine.Http(200, "OK", "OK", "text/plain; charset=utf-8"));

        // Read to the close, this check would wait as long as the connection stays open.
        Assert.Equal(EngineHealth.Available, await _val.CheckEngineAsync(default).WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task A_chunked_answer_makes_the_engine_unreachable_saying_so()
    {
        _engine.Answer("/_ping", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n");

        var health = await _val.CheckEngineAsync(default);

        Assert.False(health.IsAvailable);
        Assert.Contains("the engine's answer is chunked", health.Problem);
    }

    [Fact]
    public async Task A_refused_ping_makes_the_engine_unavailable_with_the_engine_s_answer()
    {
        _engine.Answer("/_ping", CannedEngine.Http(500, "Internal Server Error", "{\"message\":\"the daemon is shutting down\"}\n"));

        var health = await _val.CheckEngineAsync(default);

        Assert.False(health.IsAvailable);
        Assert.Equal($"docker engine at {_engine.Url} does not answer: Docker API responded with status code=InternalServerError, "
            + "response={\"message\":\"the daemon is shutting down\"}", health.Problem);
    }

    [Fact]
    public async Task The_list_asks_for_this_val_s_containers_that_have_not_ended_and_reads_their_ids_images_and_labels()
    {
        _engine.Answer("/containers/json", CannedEngine.Http(200, "OK", """
            [{"Id":"aaa111","Names":["/web"],"Image":"sha256:0123","State":"running",
              "Labels":{"motey.managed":"true","motey.image.name":"nginx:1.27","motey.service.id":"s1"}},
             {"Id":"bbb222","Image":"busybox","State":"created","Labels":null}]
            """));

        var instances = await _val.GetRunningInstancesAsync(default);

        Assert.Equal(["aaa111", "bbb222"], instances.Select(i => i.Id));
        Assert.Equal(["nginx:1.27", "busybox"], instances.Select(i => i.ImageName));
        Assert.Equal("s1", instances[0].Labels["motey.service.id"]);
        Assert.Empty(instances[1].Labels);
        var request = Assert.Single(_engine.Requests);
        Assert.StartsWith("GET /containers/json?all=1&filters=", request);
        var filters = JsonDocument.Parse(Uri.UnescapeDataString(request.Split(' ')[1].Split("filters=")[1])).RootElement;
        Assert.Equal(["motey.managed=true"], filters.GetProperty("label").EnumerateObject().Select(p => p.Name));
        Assert.Equal(ContainerStates.NotEnded, filters.GetProperty("status").EnumerateObject().Select(p => p.Name));
        Assert.All(filters.GetProperty("status").EnumerateObject(), p => Assert.True(p.Value.GetBoolean()));
    }

    [Fact]
    public async Task A_refused_list_fails_with_the_engine_s_message()
    {
        _engine.Answer("/containers/json", CannedEngine.Http(400, "Bad Request", "{\"message\":\"invalid filter 'status=zombie'\"}\n"));

        var error = await Assert.ThrowsAsync<ValException>(() => _val.GetRunningInstancesAsync(default));

        Assert.Equal("listing containers failed: invalid filter 'status=zombie'", error.Message);
    }

    [Fact]
    public async Task An_answer_that_is_not_http_makes_the_engine_unreachable_and_says_what_came()
    {
        _engine.Answer("/", "SSH-2.0-OpenSSH_9.2\r\n\r\n");

        var error = await Assert.ThrowsAsync<ValException>(() => _val.GetRunningInstancesAsync(default));
        var health = await _val.CheckEngineAsync(default);

        const string why = "the engine's answer does not start with an HTTP status line: 'SSH-2.0-OpenSSH_9.2'";
        Assert.Equal($"docker engine at {_engine.Url} is not reachable: {why}", error.Message);
        Assert.Equal($"docker engine at {_engine.Url} does not answer: {why}", health.Problem);
    }

    [Fact]
    public async Task A_connection_closed_without_an_answer_makes_the_engine_unreachable()
    {
        _engine.Answer("/", "");

        var error = await Assert.ThrowsAsync<ValException>(() => _val.GetRunningInstancesAsync(default));

        Assert.Equal($"docker engine at {_engine.Url} is not reachable: the engine closed the connection without an answer", error.Message);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", 204, "")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n[]", 200, "[]")]
    [InlineData("HTTP/1.0 404\r\n\r\n{\"message\":\"no such container\"}", 404, "{\"message\":\"no such container\"}")]
    public void An_answer_is_its_status_and_its_body(string raw, int status, string body)
    {
        Assert.Equal(new EngineAnswer(status, body), EngineAnswer.Parse(System.Text.Encoding.UTF8.GetBytes(raw)));
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n", "the engine's answer ended inside its headers")]
    [InlineData("HTTP/2 200\r\n\r\n", "the engine's answer does not start with an HTTP status line: 'HTTP/2 200'")]
    [InlineData("HTTP/1.0 OK\r\n\r\n", "the engine's answer does not start with an HTTP status line: 'HTTP/1.0 OK'")]
    public void A_broken_answer_is_an_io_error_that_says_what_is_wrong(string raw, string message)
    {
        var error = Assert.Throws<IOException>(() => EngineAnswer.Parse(System.Text.Encoding.UTF8.GetBytes(raw)));
        Assert.Equal(message, error.Message);
    }
}
