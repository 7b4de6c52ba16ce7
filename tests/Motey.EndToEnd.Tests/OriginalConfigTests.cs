using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Motey.EndToEnd.Tests.Security;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// The original Motey's config.ini, as its repository left it, with only its addresses and folders changed and the one
/// line `mode = open` added: the agent starts from it in a network namespace of its own, binding 0.0.0.0 as the original
/// did, and joins a mosquitto in another namespace (another machine's address) with the file's username and password.
/// Each value is used with the meaning it had there: the log file, the database folder, the bare ipc path, the Docker
/// socket written with two slashes, the broker that is not this host's.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
[Trait(Categories.Name, Categories.Docker)]  // [DOCKER] url: the Docker plugin must find its engine there
public sealed class OriginalConfigTests : IAsyncLifetime
{
    private const int Agent = 0;
    private const int BrokerNode = 1;
    private const string User = "neoklosch";
    private const string Password = "neoklosch";

    private readonly TempDirectory _folder = new("motey-original-");
    private NetworkNamespaces _namespaces = null!;
    private Process? _mosquitto;
    private NamespacedAgent? _agent;

    /// <summary>Where the original's absolute paths (/var, /opt, /tmp) land: the same tree under the test's folder.</summary>
    private string Root => _folder.Path;

    public async Task InitializeAsync()
    {
        _namespaces = new NetworkNamespaces(2);
        await StartMosquittoAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_agent is not null) await _agent.DisposeAsync();
            if (_mosquitto is { HasExited: false })
            {
                _mosquitto.Kill();
                await _mosquitto.WaitForExitAsync();
            }
            _mosquitto?.Dispose();
        }
        finally
        {
            _namespaces.Dispose();
            _folder.Dispose();
        }
    }

    /// <summary>The original's config.ini (motey/configuration/config.ini) with its addresses and folders changed, and the one line.</summary>
    private string OriginalConfig(string password) => $"""
        [GENERAL]
        app_name = Motey
        pid = {Root}/var/run/motey.pid

        [LOGGER]
        name = Motey
        log_path = {Root}/var/log/motey/
        file_name = application.log

        [WEBSERVER]
        ip = 0.0.0.0
        port = 5023

        [MQTT]
        ip = {_namespaces.Address(BrokerNode)}
        port = 1883
        keepalive = 60
        username = {User}
        password = {password}

        [DATABASE]
        path = {Root}/opt/Motey/motey/databases

        [ZEROMQ]
        capability_engine_ipc_path = {Root}/tmp/capability_engine.ipc
        capabilities_replier = 5091
        deploy_image_replier = 5092
        image_status_replier = 5093
        image_terminate_replier = 5094

        [DOCKER]
        url = unix://var/run/docker.sock

        [SECURITY]
        mode = open
        """;

    /// <summary>Writes the file as the original's lies in its repository (mode 0644) with the folders it expects, and starts the agent.</summary>
    private NamespacedAgent StartAgent(string password)
    {
        // The original's repository ships motey/databases; /tmp and /var/run exist on any machine.
        Directory.CreateDirectory(Path.Combine(Root, "opt", "Motey", "motey", "databases"));
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        Directory.CreateDirectory(Path.Combine(Root, "var", "run"));
        var config = Path.Combine(Root, "config.ini");
        File.WriteAllText(config, OriginalConfig(password));
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        // Reached from the broker's namespace: 0.0.0.0 serves beyond loopback, as the original's did.
        _agent = NamespacedAgent.StartWith(_namespaces, Agent, Root, config).Using(_namespaces, BrokerNode, ca: null, token: null);
        return _agent;
    }

    [Fact]
    public async Task The_original_Moteys_config_ini_with_mode_open_starts_a_node_that_joins_its_external_broker_with_the_login()
    {
        var agent = StartAgent(Password);
        await agent.WaitHealthyAsync();  // 204: membership joined the broker at [MQTT] ip with username and password

        var nodes = await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes");
        Assert.Contains(nodes!, node => node.GetProperty("ip").GetString() == _namespaces.Address(Agent));

        // The Docker plugin reached its engine through unix://var/run/docker.sock, read as /var/run/docker.sock.
        var docker = await Wait.ForAsync(async () => (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!
                .Single(p => p.GetProperty("type").GetString() == "docker"),
            p => p.GetProperty("engine_available").GetBoolean(), "the Docker plugin is Active and its engine answers",
            p => $"{p}\n{agent.Output}", TimeSpan.FromSeconds(30));
        Assert.Equal("Active", docker.GetProperty("state").GetString());
        Assert.Contains("Docker engine at unix://var/run/docker.sock", agent.Output, StringComparison.Ordinal);

        // The bare ipc path is the ipc endpoint of that path: a Unix socket the original's addcapability (pyzmq) reaches.
        var events = $"ipc://{Root}/tmp/capability_engine.ipc";
        Assert.Contains($"Listening for capability events on {events},", agent.Output, StringComparison.Ordinal);
        foreach (var command in new[] { "add_capability", "remove_capability" })
        {
            var (code, output) = await Pyzmq.RunAsync(Pyzmq.AddCapabilityScript(events, command, "camera", "hardware"));
            Assert.True(code == 0, output);
            await Wait.ForAsync(async () => (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/capabilities"))!,
                list => list.Any(c => c.GetProperty("capability").GetString() == "camera") == (command == "add_capability"),
                $"GET /v1/capabilities after the original's {command}", list => string.Join(", ", list), TimeSpan.FromSeconds(30));
        }
        // The database file inside the configured folder.
        Assert.True(File.Exists(Path.Combine(Root, "opt", "Motey", "motey", "databases", "motey.db")), "motey.db is inside [DATABASE] path");
        // Every opening is warned: open REST, open mode, the readable password.
        Assert.Equal(3, agent.StandardOutput.Split('\n').Count(line => line.Contains("INSECURE: ", StringComparison.Ordinal)));

        // Log lines go to standard output (as the original's sys.stdout), each carrying [LOGGER] name; none to standard error.
        Assert.Contains("] Motey: Motey.Host.Peers.CapabilityEventListener: Listening for capability events", agent.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Motey starting: Motey.NET ", agent.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("INF]", agent.StandardError, StringComparison.Ordinal);

        agent.Client.Dispose();
        Signals.Terminate(agent.Pid);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        // The log file is exactly log_path + file_name, alone in its folder; its lines carry the logger name; the agent is named by app_name.
        var logs = Path.Combine(Root, "var", "log", "motey");
        Assert.Equal(["application.log"], Directory.GetFiles(logs).Select(Path.GetFileName));
        var lines = File.ReadAllLines(Path.Combine(logs, "application.log")).Where(l => l.Length > 0 && char.IsAsciiDigit(l[0])).ToList();
        Assert.All(lines, line => Assert.Contains("] Motey: ", line, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(": Motey starting: Motey.NET ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(": Motey ready: REST on http://0.0.0.0:5023", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(": Motey stopped (pid ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_a_wrong_broker_password_the_heartbeat_answers_400_naming_the_refused_login()
    {
        var agent = StartAgent("not-" + Password);

        var detail = (await Wait.ForAsync(async () =>
        {
            if (agent.HasExited) Assert.Fail($"the agent exited:\n{agent.Output}");
            try
            {
                using var response = await agent.Client.GetAsync("/v1/heartbeat");
                if (response.StatusCode != HttpStatusCode.BadRequest) return ((int)response.StatusCode, "");
                return (400, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!);
            }
            catch (HttpRequestException)
            {
                return (0, "not listening yet");
            }
        }, h => h.Item1 == 400, "the agent answers its heartbeat with 400", h => $"it answers {h.Item1}\n{agent.Output}", TimeSpan.FromSeconds(60))).Item2;

        Assert.StartsWith($"membership: the MQTT broker at {_namespaces.Address(BrokerNode)}:1883 refused the connection: ", detail, StringComparison.Ordinal);
        Assert.EndsWith($" for the login of user '{User}'", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("not-" + Password, agent.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// mosquitto in the broker's namespace on its address, taking only the login of a mosquitto_passwd file. It drops to
    /// the mosquitto user before reading that file: the file is that user's, and the test's folder is passable to it.
    /// </summary>
    private async Task StartMosquittoAsync()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Root, "mosquitto")).FullName;
        File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var passwords = Path.Combine(folder, "passwd");
        await MosquittoBroker.PasswdAsync("-b", "-c", passwords, User, Password);
        await RunAsync("chown", "mosquitto:mosquitto", passwords);
        var address = _namespaces.Address(BrokerNode);
        var config = Path.Combine(folder, "mosquitto.conf");
        File.WriteAllText(config, $"listener 1883 {address}\nallow_anonymous false\npassword_file {passwords}\npersistence false\n");
        var info = _namespaces.Exec(BrokerNode, MosquittoBroker.Binary, "-c", config);
        _mosquitto = Process.Start(info)!;
        _mosquitto.BeginOutputReadLine();
        _mosquitto.BeginErrorReadLine();
        await Wait.UntilAsync(async () =>
        {
            if (_mosquitto.HasExited) Assert.Fail($"mosquitto exited with {_mosquitto.ExitCode}");
            using var probe = _namespaces.Socket(Agent);
            try
            {
                await probe.ConnectAsync(address, 1883);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, $"mosquitto listens on {address}:1883", TimeSpan.FromSeconds(10));
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {error}");
    }
}
