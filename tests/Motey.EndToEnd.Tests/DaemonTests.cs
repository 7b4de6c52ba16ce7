using System.Diagnostics;
using System.Net;

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
    public async Task A_missing_config_file_is_explained_and_exits_2()
    {
        await using var cli = AgentProcess.StartRaw(_folder, _address, _port, "status", "--config", Path.Combine(_folder, "absent.ini"));
        Assert.Equal(2, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("absent.ini: config file not found", cli.Output);
    }
}
