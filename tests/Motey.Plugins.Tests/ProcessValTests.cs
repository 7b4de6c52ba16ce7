using Motey.Abstractions;
using Motey.Val.Process;
using static Motey.Plugins.Tests.TestSupport;

namespace Motey.Plugins.Tests;

/// <summary>The process VAL with real processes. Every instance a test creates is removed (so stopped) afterwards.</summary>
public sealed class ProcessValTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("motey-plugins-tests-");
    private readonly ProcessVal _val = new();
    private readonly List<string> _created = [];

    /// <summary>The policy these tests need: the system's programs (sleep, sh, ...); instances run as the default user.</summary>
    private static readonly Dictionary<string, string?> Policy = new() { ["allowed_executables"] = "/bin, /usr/bin" };

    public Task InitializeAsync() => _val.ActivateAsync(Context(_data.Path, Policy), CancellationToken.None);

    public async Task DisposeAsync()
    {
        foreach (var id in _created) await _val.RemoveInstanceAsync(id, CancellationToken.None);
        _data.Dispose();
    }

    [Fact]
    public async Task Create_prepares_the_instance_without_running_its_program()
    {
        var id = await CreateAsync("/bin/sh", """{"args": ["-c", "echo ran"]}""");

        Assert.Equal(ImageState.Initial, await _val.GetInstanceStateAsync(id, default));
        Assert.True(await _val.HasInstanceAsync(id, default));
        Assert.Equal("", await File.ReadAllTextAsync(LogOf(id)));

        await _val.StartInstanceAsync(id, default);
        await Wait.UntilAsync(async () => await _val.GetInstanceStateAsync(id, default) == ImageState.Terminated, "the program ended", Deadline);
        Assert.Equal("ran\n", await File.ReadAllTextAsync(LogOf(id)));
    }

    [Fact]
    public async Task Started_sleep_runs_as_its_own_pid_and_reports_memory()
    {
        var id = await RunAsync("sleep", """{"args": [300]}""");
        var pid = PidOf(id);

        Assert.Equal(ImageState.Running, await _val.GetInstanceStateAsync(id, default));
        Assert.True(Directory.Exists($"/proc/{pid}"));
        // Right after the fork the child may not have exec'd yet: its command line is still the agent's for a moment.
        await Wait.UntilAsync(() => ProcFsProbe.CommandLine(pid) is [var first, ..] && first.EndsWith("/sleep", StringComparison.Ordinal), "the child runs sleep");
        var argv = ProcFsProbe.CommandLine(pid);
        Assert.EndsWith("/sleep", argv[0]);
        Assert.Equal(["300"], argv.Skip(1));

        var stats = await _val.GetStatsAsync(id, default);
        Assert.NotNull(stats);
        Assert.Equal(id, stats.Name);
        Assert.Equal("sleep", stats.ImageName);
        Assert.Equal(ImageState.Running, stats.Status);
        Assert.True(stats.UsedMemory > 0);
        Assert.True(stats.UsedCpu >= 0);
        Assert.Equal(0, stats.NetworkRxBytes + stats.NetworkTxBytes);
        Assert.InRange(stats.CreatedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));

        var all = await _val.GetAllInstancesStatsAsync(default);
        Assert.True(all.UsedMemory >= stats.UsedMemory);
    }

    [Fact]
    public async Task Instance_runs_in_a_session_of_its_own_so_the_agents_ctrl_c_does_not_reach_it()
    {
        var id = await RunAsync("sleep", """{"args": ["300"]}""");
        var pid = PidOf(id);

        Assert.Equal((pid, pid), ProcFsProbe.GroupAndSession(pid));
        Assert.NotEqual(ProcFsProbe.GroupAndSession(System.Environment.ProcessId).Session, pid);
    }

    [Fact]
    public async Task Stop_ends_the_process_and_state_becomes_terminated()
    {
        var id = await RunAsync("sleep", """{"args": ["300"]}""");

        await _val.StopInstanceAsync(id, default);

        Assert.False(ProcFsProbe.IsAlive(PidOf(id)));
        Assert.Equal(ImageState.Terminated, await _val.GetInstanceStateAsync(id, default));
        Assert.Empty(await _val.GetRunningInstancesAsync(default));
        await _val.StopInstanceAsync(id, default); // stopping a gone instance is fine
    }

    [Fact]
    public async Task A_process_that_exits_by_itself_becomes_terminated_and_stays_known_until_removed()
    {
        var id = await RunAsync("/bin/sh", """{"args": ["-c", "exit 3"]}""");

        await Wait.UntilAsync(async () => await _val.GetInstanceStateAsync(id, default) == ImageState.Terminated, "the process exited", Deadline);
        Assert.True(await _val.HasInstanceAsync(id, default));
        Assert.Equal(ImageState.Terminated, (await _val.GetStatsAsync(id, default))?.Status);
        Assert.Empty(await _val.GetRunningInstancesAsync(default));
    }

    [Fact]
    public async Task Starting_an_ended_instance_is_refused()
    {
        var id = await RunAsync("/bin/true");
        await Wait.UntilAsync(async () => await _val.GetInstanceStateAsync(id, default) == ImageState.Terminated, "the process exited", Deadline);

        var error = await Assert.ThrowsAsync<ValException>(() => _val.StartInstanceAsync(id, default));
        Assert.Contains("create a new instance", error.Message);
    }

    [Fact]
    public async Task Env_and_working_directory_reach_the_process()
    {
        var workDir = Directory.CreateDirectory(Path.Combine(_data.Path, "work")).FullName;
        var id = await RunAsync("sleep", $$"""
            {"args": ["300"], "env": {"FOO": "bar", "PORT": 8080, "DEBUG": true}, "working_directory": "{{workDir}}"}
            """);
        var pid = PidOf(id);

        var environment = ProcFsProbe.Environment(pid);
        Assert.Contains("FOO=bar", environment);
        Assert.Contains("PORT=8080", environment);
        Assert.Contains("DEBUG=true", environment);
        Assert.Equal(workDir, ProcFsProbe.WorkingDirectory(pid));
    }

    [Fact]
    public async Task Output_and_errors_go_to_the_instance_log()
    {
        var workDir = Directory.CreateDirectory(Path.Combine(_data.Path, "work")).FullName;
        var id = await RunAsync("/bin/sh", $$"""
            {"args": ["-c", "echo \"$FOO\"; pwd; echo oops >&2"], "env": {"FOO": "hello"}, "working_directory": "{{workDir}}"}
            """);

        await Wait.UntilAsync(async () => await _val.GetInstanceStateAsync(id, default) == ImageState.Terminated, "the script ended", Deadline);
        Assert.Equal($"hello\n{workDir}\noops\n", await File.ReadAllTextAsync(LogOf(id)));
    }

    [Fact]
    public async Task After_an_agent_restart_a_new_val_still_sees_the_running_instance_with_its_labels()
    {
        var labels = new Dictionary<string, string> { [InstanceLabels.ServiceId] = "abc123", [InstanceLabels.ImageIndex] = "0" };
        var id = await RunAsync("sleep", """{"args": ["300"]}""", labels);

        var restarted = new ProcessVal();
        await restarted.ActivateAsync(Context(_data.Path, Policy), default);

        Assert.True(await restarted.HasInstanceAsync(id, default));
        Assert.Equal(ImageState.Running, await restarted.GetInstanceStateAsync(id, default));
        var listed = Assert.Single(await restarted.GetRunningInstancesAsync(default));
        Assert.Equal(id, listed.Id);
        Assert.Equal("sleep", listed.ImageName);
        Assert.Equal(labels, listed.Labels);

        await restarted.StopInstanceAsync(id, default);
        Assert.False(ProcFsProbe.IsAlive(PidOf(id)));
    }

    [Fact]
    public async Task A_process_ignoring_sigterm_is_killed_after_the_stop_timeout_with_its_children()
    {
        // The shell forks sleep (a second command follows it), and both ignore SIGTERM.
        var id = await RunAsync("/bin/sh", """{"args": ["-c", "trap '' TERM; sleep 300; echo never"], "stop_timeout": 1}""");
        var pid = PidOf(id);
        await Wait.UntilAsync(() => ProcFsProbe.LiveMembersOf(pid).Count == 2, "the shell has started sleep", Deadline);

        await _val.StopInstanceAsync(id, default);

        Assert.Equal(ImageState.Terminated, await _val.GetInstanceStateAsync(id, default));
        await Wait.UntilAsync(() => ProcFsProbe.LiveMembersOf(pid).Count == 0, "no process of the instance is left", Deadline);
    }

    [Fact]
    public async Task Remove_stops_the_process_and_forgets_the_instance()
    {
        var id = await RunAsync("sleep", """{"args": ["300"]}""");

        await _val.RemoveInstanceAsync(id, default);

        Assert.False(ProcFsProbe.IsAlive(PidOf(id)));
        Assert.False(await _val.HasInstanceAsync(id, default));
        Assert.Null(await _val.GetStatsAsync(id, default));
        Assert.False(File.Exists(LogOf(id)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_data.Path, "instances")));
        await _val.RemoveInstanceAsync(id, default); // removing an unknown instance is not an error
    }

    [Fact]
    public async Task A_damaged_record_hides_no_other_instance_and_can_still_be_removed()
    {
        var damaged = await RunAsync("sleep", """{"args": ["300"]}""");
        var healthy = await RunAsync("sleep", """{"args": ["300"]}""");
        await File.WriteAllTextAsync(Path.Combine(_data.Path, "instances", $"{damaged}.json"), "{ not json");

        var listed = Assert.Single(await _val.GetRunningInstancesAsync(default));
        Assert.Equal(healthy, listed.Id);

        await _val.RemoveInstanceAsync(damaged, default);
        Assert.False(ProcFsProbe.IsAlive(PidOf(damaged)));
        Assert.False(await _val.HasInstanceAsync(damaged, default));
    }

    [Fact]
    public async Task An_unknown_executable_is_refused_with_its_name()
    {
        Assert.False(await _val.HasImageAsync("motey-no-such-program", default));
        var load = await Assert.ThrowsAsync<ValException>(() => _val.LoadImageAsync("motey-no-such-program", default));
        Assert.Contains("executable 'motey-no-such-program' not found on this node", load.Message);
        var create = await Assert.ThrowsAsync<ValException>(() => _val.CreateInstanceAsync(Spec("/opt/motey/missing"), default));
        Assert.Contains("'/opt/motey/missing'", create.Message);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_data.Path, "instances")));
    }

    [Theory]
    [InlineData("sleep", true)]
    [InlineData("/bin/sh", true)]
    [InlineData("./sleep", false)]   // relative paths would depend on the agent's working directory
    [InlineData("/tmp", false)]      // a directory is not an executable
    public async Task Images_are_absolute_paths_or_names_on_path(string image, bool present)
    {
        Assert.Equal(present, await _val.HasImageAsync(image, default));
    }

    [Fact]
    public async Task A_file_without_execute_permission_is_not_an_image()
    {
        var file = Path.Combine(_data.Path, "notes.txt");
        await File.WriteAllTextAsync(file, "#!/bin/sh\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.False(await _val.HasImageAsync(file, default));
    }

    [Fact]
    public async Task Deleting_an_image_leaves_the_executable_alone()
    {
        await _val.DeleteImageAsync("/bin/sh", default);
        Assert.True(File.Exists("/bin/sh"));
    }

    [Fact]
    public async Task A_working_directory_that_does_not_exist_is_refused_at_create()
    {
        var error = await Assert.ThrowsAsync<ValException>(() =>
            _val.CreateInstanceAsync(Spec("sleep", """{"working_directory": "/no/such/dir"}"""), default));
        Assert.StartsWith("parameters.working_directory:", error.Message);
    }

    [Theory]
    [InlineData("""{"args": {"a": 1}}""", "parameters.args: expected a list of strings, got object")]
    [InlineData("""{"args": "-v"}""", "parameters.args: expected a list of strings, got string")]
    [InlineData("""{"args": ["ok", [1]]}""", "parameters.args[1]: expected a string, number or boolean, got list")]
    [InlineData("""{"args": [null]}""", "parameters.args[0]: expected a string, number or boolean, got null")]
    [InlineData("""{"env": ["A=1"]}""", "parameters.env: expected a map of variable names to strings, got list")]
    [InlineData("""{"env": {"A": {"b": 1}}}""", "parameters.env.A: expected a string, number or boolean, got object")]
    [InlineData("""{"env": {"A=B": "1"}}""", "parameters.env: 'A=B' is not a valid variable name")]
    [InlineData("""{"working_directory": 7}""", "parameters.working_directory: expected an absolute path, got number")]
    [InlineData("""{"working_directory": "data/run"}""", "parameters.working_directory: expected an absolute path, got 'data/run'")]
    [InlineData("""{"stop_timeout": "10"}""", "parameters.stop_timeout: expected a number of seconds >= 0, got string")]
    [InlineData("""{"stop_timeout": -1}""", "parameters.stop_timeout: expected a number of seconds from 0 to 86400, got -1")]
    [InlineData("""{"colour": "red"}""", "parameters.colour: unknown parameter (known: args, env, working_directory, stop_timeout)")]
    public void ValidateParameters_refuses_with_a_message_naming_the_key(string parameters, string message)
    {
        Assert.Equal([message], _val.ValidateParameters(Parameters(parameters)));
    }

    [Fact]
    public void ValidateParameters_reports_every_problem()
    {
        var problems = _val.ValidateParameters(Parameters("""{"args": 1, "env": 2, "ports": {}}"""));
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void ValidateParameters_accepts_every_known_parameter_with_scalars_in_lists_and_maps()
    {
        var parameters = Parameters("""
            {"args": ["--port", 8080, true, 1.5], "env": {"A": "x", "B": 2, "C": false}, "working_directory": "/tmp", "stop_timeout": 2.5}
            """);
        Assert.Empty(_val.ValidateParameters(parameters));
    }

    [Fact]
    public async Task An_id_whose_pid_now_belongs_to_another_process_is_not_an_instance()
    {
        // This test host's own pid with a start time it never had: a recycled pid.
        var stale = $"{System.Environment.ProcessId}-1";

        Assert.False(await _val.HasInstanceAsync(stale, default));
        Assert.Equal(ImageState.Terminated, await _val.GetInstanceStateAsync(stale, default));
        Assert.Null(await _val.GetStatsAsync(stale, default));
        await Assert.ThrowsAsync<ValException>(() => _val.StartInstanceAsync(stale, default));
        await _val.StopInstanceAsync(stale, default);
        await _val.RemoveInstanceAsync(stale, default);
        Assert.True(ProcFsProbe.IsAlive(System.Environment.ProcessId)); // and we were not signalled
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("12")]
    [InlineData("1-2-3")]
    [InlineData("../../etc/passwd")]
    [InlineData("0012-5")]
    public async Task Malformed_ids_are_unknown_instances(string id)
    {
        Assert.False(await _val.HasInstanceAsync(id, default));
        Assert.Equal(ImageState.Terminated, await _val.GetInstanceStateAsync(id, default));
        Assert.Null(await _val.GetStatsAsync(id, default));
        await _val.StopInstanceAsync(id, default);
        await _val.RemoveInstanceAsync(id, default);
    }

    private async Task<string> CreateAsync(string image, string parameters = "{}", IReadOnlyDictionary<string, string>? labels = null)
    {
        var id = await _val.CreateInstanceAsync(Spec(image, parameters, labels), default);
        _created.Add(id);
        return id;
    }

    private async Task<string> RunAsync(string image, string parameters = "{}", IReadOnlyDictionary<string, string>? labels = null)
    {
        var id = await CreateAsync(image, parameters, labels);
        await _val.StartInstanceAsync(id, default);
        return id;
    }

    private string LogOf(string id) => Path.Combine(_data.Path, "logs", $"{id}.log");
}
