using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Motey.EndToEnd.Tests;

/// <summary>motey start / status / restart / stop as an operator types them, with real processes.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class DaemonTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-daemon-").FullName;
    private readonly string _address = AgentProcess.NextAddress();
    private string _config = "";
    private int _port;

    private string PidPath => Path.Combine(_folder, "run", "motey.pid");
    private string LogPath => Path.Combine(_folder, "logs", "motey.log");

    public Task InitializeAsync()
    {
        (_config, _port) = AgentProcess.WriteConfig(_folder, _address);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await MoteyAsync("stop");
        if (File.Exists(PidPath) && int.TryParse(File.ReadAllText(PidPath).Trim(), out var pid))
        {
            try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
        }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private async Task<(int Code, string Output)> MoteyAsync(params string[] command)
    {
        await using var cli = AgentProcess.StartRaw(_folder, _address, _port, [.. command, "--config", _config]);
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(90));
        return (code, cli.Output);
    }

    private int PidInFile() => int.Parse(File.ReadAllText(PidPath).Trim());

    /// <summary>The pid `motey start` names in its one line about the agent it launched.</summary>
    private static int PidNamedIn(string output) => int.Parse(Regex.Match(output, @"\(pid (\d+)\)").Groups[1].Value);

    private async Task AssertHealthyAsync()
    {
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.NoContent, (await http.GetAsync($"http://{_address}:{_port}/v1/heartbeat")).StatusCode);
    }

    [Fact]
    public async Task Start_status_restart_and_stop_round_trip()
    {
        var (code, output) = await MoteyAsync("start");
        Assert.True(code == 0, output);
        var pid = PidInFile();
        Assert.Contains($"started (pid {pid})", output);
        Assert.Contains($"log {LogPath}", output);
        Assert.True(File.Exists(LogPath), "the log file the message names exists");
        await AssertHealthyAsync();

        (code, output) = await MoteyAsync("start");
        Assert.Equal(1, code);
        Assert.Contains($"already running (pid {pid}", output);

        (code, output) = await MoteyAsync("status");
        Assert.Equal(0, code);
        Assert.Contains($"running (pid {pid})", output);
        Assert.Contains("Motey.Val.Process (Active)", output);
        Assert.Contains("capabilities:", output);

        (code, output) = await MoteyAsync("restart");
        Assert.True(code == 0, output);
        var newPid = PidInFile();
        Assert.NotEqual(pid, newPid);
        Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("motey"), "the old agent is gone");
        await AssertHealthyAsync();

        (code, output) = await MoteyAsync("stop");
        Assert.Equal(0, code);
        Assert.Contains($"stopped (pid {newPid})", output);
        Assert.False(File.Exists(PidPath), "the pid file is removed");
        (code, output) = await MoteyAsync("status");
        Assert.Equal(3, code);
        Assert.Contains("not running", output);
    }

    [Fact]
    public async Task Status_exits_1_when_the_agent_runs_but_does_not_answer_its_heartbeat()
    {
        var (code, output) = await MoteyAsync("start");
        Assert.True(code == 0, output);
        var pid = PidInFile();
        Signals.Freeze(pid);  // alive and named by its pid file, but answering nothing: a hung agent
        try
        {
            (code, output) = await MoteyAsync("status");

            Assert.True(code == 1, output);  // what a container's HEALTHCHECK counts as unhealthy
            Assert.Contains($"running (pid {pid})", output);
            Assert.Contains("REST:         not answering", output);
        }
        finally
        {
            Signals.Kill(pid);
        }
    }

    [Fact]
    public async Task A_foreground_agent_writes_its_pid_file_so_status_and_start_know_it()
    {
        var agent = AgentProcess.StartRaw(_folder, _address, _port, "run", "--config", _config);
        await using (agent)
        {
            await agent.WaitHealthyAsync();
            Assert.Equal(agent.Pid, PidInFile());

            var (code, output) = await MoteyAsync("status");
            Assert.Equal(0, code);
            Assert.Contains($"running (pid {agent.Pid})", output);
            (code, output) = await MoteyAsync("start");
            Assert.Equal(1, code);
            Assert.Contains($"already running (pid {agent.Pid}", output);
        }
        Assert.False(File.Exists(PidPath), "the agent removes its pid file when it stops");
    }

    [Fact]
    public async Task A_stale_pid_file_is_recognised_and_does_not_block_a_start()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PidPath)!);
        File.WriteAllText(PidPath, "999999\n");

        var (code, output) = await MoteyAsync("status");
        Assert.Equal(3, code);
        Assert.Contains("stale pid file", output);

        (code, output) = await MoteyAsync("stop");
        Assert.Equal(0, code);
        Assert.Contains("stale pid file", output);
        Assert.False(File.Exists(PidPath));

        File.WriteAllText(PidPath, "999999\n");
        (code, output) = await MoteyAsync("start");
        Assert.True(code == 0, output);
        Assert.Contains("removing stale pid file", output);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Start_with_a_misspelt_section_exits_2_naming_file_line_and_the_section_meant()
    {
        File.WriteAllText(_config, File.ReadAllText(_config).Replace("[WEBSERVER]", "[WEBSEVER]", StringComparison.Ordinal));
        var line = Array.IndexOf(File.ReadAllLines(_config), "[WEBSEVER]") + 1;

        var (code, output) = await MoteyAsync("start");

        Assert.Equal(2, code);
        Assert.Contains($"motey: [WEBSEVER] at {_config}:{line} is not a known section; did you mean [WEBSERVER]?", output);
        Assert.False(File.Exists(PidPath), "no agent was started");
    }

    [Fact]
    public async Task A_missing_config_file_is_explained_and_exits_2()
    {
        await using var cli = AgentProcess.StartRaw(_folder, _address, _port, "status", "--config", Path.Combine(_folder, "absent.ini"));
        Assert.Equal(2, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("absent.ini: config file not found", cli.Output);
    }

    [Fact]
    public async Task Start_fails_quoting_the_agents_fatal_line_when_its_ZeroMQ_port_is_taken()
    {
        using var squatter = new TcpListener(IPAddress.Parse(_address), 5091);  // the default capabilities_replier
        squatter.Start();

        var (code, output) = await MoteyAsync("start");

        Assert.True(code == 1, output);
        Assert.Contains($"exited with code 1 while starting: cannot start: cannot bind the capabilities replier on tcp://{_address}:5091", output);
        Assert.Contains($"log {LogPath}", output);
        Assert.True(File.Exists(LogPath), "the log file the message names exists");
        Assert.False(ProcFsProbe.IsAlive(PidNamedIn(output)), "no agent is left running");
        Assert.False(File.Exists(PidPath), "the pid file is gone");
    }

    [Fact]
    public async Task Start_fails_when_another_agent_holds_its_ports_although_that_agent_answers_the_heartbeat()
    {
        var otherFolder = Directory.CreateTempSubdirectory("motey-daemon-other-").FullName;
        try
        {
            await using var other = AgentProcess.Start(otherFolder, _address);
            await other.WaitHealthyAsync();
            (_config, _port) = AgentProcess.WriteConfig(_folder, _address, new Dictionary<string, string> { ["WEBSERVER:port"] = other.Port.ToString() });

            var (code, output) = await MoteyAsync("start");

            Assert.True(code == 1, output);
            Assert.Contains("while starting: cannot start: cannot bind", output);
            Assert.DoesNotContain("started", output);
            Assert.False(ProcFsProbe.IsAlive(PidNamedIn(output)), "the new agent is not left running");
            Assert.True(ProcFsProbe.IsAlive(other.Pid), "the other agent runs on");
        }
        finally
        {
            Directory.Delete(otherFolder, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Start_against_a_broker_that_refuses_the_login_ends_with_the_reason_and_leaves_no_agent()
    {
        // mosquitto drops to its own user: it must be able to reach the password file.
        File.SetUnixFileMode(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var passwords = Path.Combine(_folder, "mosquitto.passwd");
        using (var passwd = Process.Start("mosquitto_passwd", ["-b", "-c", passwords, "motey", "secret"]))
            await passwd.WaitForExitAsync();
        await using var broker = new MosquittoBroker(_folder, _address, Ports.Free(_address), passwords);
        await broker.StartAsync();
        (_config, _port) = AgentProcess.WriteConfig(_folder, _address, new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:port"] = broker.Port.ToString(),
            ["MQTT:username"] = "motey",
            ["MQTT:password"] = "not the password",
        });

        var (code, output) = await MoteyAsync("start");

        Assert.True(code == 1, output);
        Assert.Contains($"is unhealthy: membership: the MQTT broker at {_address}:{broker.Port} refused the connection", output);
        Assert.Contains($"stopped it; log {LogPath}", output);
        Assert.False(ProcFsProbe.IsAlive(PidNamedIn(output)), "no agent is left running");
        Assert.False(File.Exists(PidPath), "the pid file is gone");
        // It stopped waiting at the first unhealthy answer: one probe of the failing check in the log (two if the refusal
        // came between the heartbeat and /healthz of one poll), not one per poll for a minute.
        Assert.InRange(File.ReadLines(LogPath).Count(l => l.Contains("Health check membership", StringComparison.Ordinal)), 1, 2);
    }
}
