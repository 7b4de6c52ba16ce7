using System.Net;
using System.Text;
using Motey.Host.CommandLine;
using Motey.Host.CommandLine.Client;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.CommandLine;

/// <summary>The `motey` command line as System.CommandLine parses it, run in this process with its output captured.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TestFolder _folder = new();
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();

    public void Dispose()
    {
        _out.Dispose();
        _error.Dispose();
        _folder.Dispose();
    }

    private Task<int> RunAsync(params string[] args) => RunWithInputAsync("", args);

    private Task<int> RunWithInputAsync(string input, params string[] args)
    {
        // An empty config: the embedded defaults, never a config.ini of this machine.
        var config = Path.Combine(_folder.Path, "config.ini");
        if (!File.Exists(config)) File.WriteAllText(config, "");
        return Cli.RunAsync([.. args, "--config", config], new CliConsole(_out, _error, () => new MemoryStream(Encoding.UTF8.GetBytes(input))));
    }

    [Fact]
    public async Task Help_lists_every_command_and_the_exit_codes()
    {
        Assert.Equal(0, await RunAsync("--help"));

        var help = _out.ToString();
        foreach (var command in new[] { "run", "start", "stop", "restart", "status", "capability", "keys", "version", "service", "nodes", "capabilities", "plugins" })
            Assert.Matches($"(?m)^  {command} ", help);
        Assert.Contains("Exit codes:", help);
        Assert.Contains("3  the node does not answer", help);
        Assert.Contains("4  timed out waiting", help);
    }

    [Fact]
    public async Task Service_help_names_its_commands_and_the_client_options()
    {
        Assert.Equal(0, await RunAsync("service", "--help"));

        var help = _out.ToString();
        foreach (var text in new[] { "deploy <FILE>", "ls", "show <SERVICE>", "rm <SERVICE>", "logs <SERVICE>", "--url <URL>", "--token <TOKEN>", "--json" })
            Assert.Contains(text, help);
        Assert.Contains("$MOTEY_TOKEN", help);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("service", "frobnicate")]
    [InlineData("service", "deploy")]
    [InlineData("service", "logs", "web", "--tail", "-1")]
    [InlineData("service", "logs", "web", "--tail", "many")]
    [InlineData("service", "deploy", "web.yaml", "--timeout", "0")]
    [InlineData("run", "--frob")]
    [InlineData("capabilities", "add")]
    public async Task Bad_usage_exits_2_with_a_message_and_the_synopsis(params string[] args)
    {
        Assert.Equal(2, await RunAsync(args));

        Assert.StartsWith("motey: ", _error.ToString());
        Assert.Contains("usage: motey <command>", _error.ToString());
    }

    [Fact]
    public async Task Version_and_dash_dash_version_print_the_version()
    {
        Assert.Equal(0, await RunAsync("version"));
        Assert.Equal(0, await RunAsync("--version"));

        var version = typeof(Cli).Assembly.GetName().Version!.ToString();
        Assert.Equal($"motey {version}\nmotey {version}\n", _out.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_blueprint_that_cannot_be_read_exits_2_naming_the_file()
    {
        var missing = Path.Combine(_folder.Path, "missing.yaml");

        Assert.Equal(2, await RunAsync("service", "deploy", missing, "--url", "http://127.0.0.1:9"));

        Assert.Contains($"motey: cannot read the blueprint {missing}", _error.ToString());
    }

    [Fact]
    public async Task A_url_that_is_not_http_exits_2()
    {
        Assert.Equal(2, await RunAsync("nodes", "--url", "ftp://127.0.0.1"));

        Assert.Contains("--url 'ftp://127.0.0.1' is not an http:// or https:// address", _error.ToString());
    }

    [Theory]
    [InlineData("nodes")]
    [InlineData("plugins")]
    [InlineData("plugins", "rescan")]
    [InlineData("capabilities", "ls")]
    [InlineData("service", "ls")]
    [InlineData("service", "show", "web")]
    public async Task A_node_that_does_not_answer_exits_3_naming_its_address(params string[] args)
    {
        var address = _folder.Address;
        var port = Ports.Free(address);  // nothing listens there

        Assert.Equal(3, await RunAsync([.. args, "--url", $"http://{address}:{port}"]));

        Assert.Contains($"motey: the node at http://{address}:{port} does not answer: Connection refused", _error.ToString());
        Assert.Equal("", _out.ToString());
    }

    [Fact]
    public async Task Deploy_from_stdin_against_a_node_that_does_not_answer_reads_the_blueprint_then_exits_3()
    {
        var port = Ports.Free(_folder.Address);

        Assert.Equal(3, await RunWithInputAsync("service_name: x\n", "service", "deploy", "-", "--url", $"http://{_folder.Address}:{port}"));

        Assert.Contains("does not answer", _error.ToString());
    }

    [Fact]
    public async Task A_token_that_starts_with_at_is_sent_as_it_is_not_read_as_a_response_file()
    {
        var port = Ports.Free(_folder.Address);

        Assert.Equal(3, await RunAsync("nodes", "--token", "@no-such-file-0123456789", "--url", $"http://{_folder.Address}:{port}"));

        Assert.Contains("does not answer", _error.ToString());
    }

    [Fact]
    public async Task A_capability_of_type_plugin_is_refused_before_asking_the_node()
    {
        Assert.Equal(2, await RunAsync("capabilities", "add", "docker", "--type", "plugin", "--url", "http://127.0.0.1:9"));

        Assert.Contains("plugin", _error.ToString());
        Assert.DoesNotContain("does not answer", _error.ToString());
    }

    [Fact]
    public void Problem_details_become_one_sentence()
    {
        Assert.Equal("Invalid blueprint: images[0].engine: required (line 3, column 3)", ProblemText.Sentence(HttpStatusCode.BadRequest, "Bad Request",
            """{"title": "Invalid blueprint", "status": 400, "detail": "images[0].engine: required (line 3, column 3)"}"""));
        Assert.Equal("no service with id 'x'", ProblemText.Sentence(HttpStatusCode.NotFound, "Not Found",
            """{"title": "Not found", "status": 404, "detail": "no service with id 'x'"}"""));
        Assert.Equal("a service named 'sleeper' has not ended (service 3f2a)", ProblemText.Sentence(HttpStatusCode.Conflict, "Conflict",
            """{"title": "Conflict", "status": 409, "detail": "a service named 'sleeper' has not ended", "existing_id": "3f2a"}"""));
        Assert.Equal("the node answered 500 Internal Server Error: boom", ProblemText.Sentence(HttpStatusCode.InternalServerError, "Internal Server Error", "boom\nat ..."));
        Assert.Equal("the node answered 502 Bad Gateway", ProblemText.Sentence(HttpStatusCode.BadGateway, "Bad Gateway", ""));
    }

    [Fact]
    public void Tables_align_their_columns_without_trailing_spaces_or_line_breaks_in_cells()
    {
        var table = new TableWriter("ID", "NAME", "MESSAGE")
            .Add("3f2a9c1e", "web", "")
            .Add("7", "a much longer name", "two\nlines");
        using var output = new StringWriter();

        table.Write(output);

        Assert.Equal("""
            ID         NAME                 MESSAGE
            3f2a9c1e   web
            7          a much longer name   two lines

            """.ReplaceLineEndings("\n"), output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Server_sent_events_are_read_with_their_type_id_data_and_comments()
    {
        var text = "retry: 3000\n: motey events of 127.0.0.1\n\nid: 1\nevent: image\ndata: {\"a\":1}\n\n: keepalive\nid: 2\nevent: reset\ndata: x\ndata: y\n\n";
        var messages = new List<SseMessage>();

        await foreach (var m in ServerSentEvents.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), CancellationToken.None)) messages.Add(m);

        Assert.Equal(
            [
                new SseMessage("", "", null, "motey events of 127.0.0.1"),
                new SseMessage("image", "{\"a\":1}", "1", null),
                new SseMessage("", "", null, "keepalive"),
                new SseMessage("reset", "x\ny", "2", null),
            ], messages);
    }
}
