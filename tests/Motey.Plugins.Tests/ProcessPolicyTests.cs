using Microsoft.Extensions.Configuration;
using Motey.Abstractions;
using Motey.Val.Process;
using static Motey.Plugins.Tests.TestSupport;

namespace Motey.Plugins.Tests;

/// <summary>
/// The <c>[PROCESS]</c> policy: which executables run (checked as the agent checks a blueprint at POST, and again when a
/// peer's deploy creates an instance) and as whom, with the process table as the judge of the user.
/// </summary>
public sealed class ProcessPolicyTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("motey-policy-data-");
    private readonly TempDirectory _programs = new("motey-policy-programs-");
    private readonly List<(ProcessVal Val, string Id)> _created = [];

    public Task InitializeAsync()
    {
        foreach (var folder in new[] { "tools", "tools2", "other" })
        {
            var script = Path.Combine(Directory.CreateDirectory(Path.Combine(_programs.Path, folder)).FullName, "run");
            File.WriteAllText(script, "#!/bin/sh\nexec sleep 300\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var (val, id) in _created) await val.RemoveInstanceAsync(id, default);
        _data.Dispose();
        _programs.Dispose();
    }

    private string Tools => Path.Combine(_programs.Path, "tools");

    private async Task<ProcessVal> ActiveAsync(Dictionary<string, string?> settings)
    {
        var val = new ProcessVal();
        await val.ActivateAsync(Context(_data.Path, settings), default);
        return val;
    }

    private static string Refusal(string shown, string resolved) =>
        $"name: executable {shown} is not allowed on this node; adding {resolved} (or a folder above it) to [PROCESS] allowed_executables allows it";

    [Fact]
    public async Task A_fresh_node_runs_no_executable_and_says_which_setting_would_allow_it()
    {
        var val = await ActiveAsync([]);
        var program = Path.Combine(Tools, "run");

        Assert.Equal([Refusal(program, program)], val.ValidateImage(program, Parameters()));
    }

    [Theory]
    [InlineData("tools/run", "tools/run")]
    [InlineData("tools/run", "tools")]
    [InlineData("tools/run", "tools/")]
    [InlineData("tools/../tools/run", "tools")]
    [InlineData("tools/run", "other, tools")]
    public async Task An_executable_that_is_listed_or_inside_a_listed_folder_may_run(string image, string allowed)
    {
        var val = await ActiveAsync(new() { ["allowed_executables"] = In(allowed) });

        Assert.Empty(val.ValidateImage(Path.Combine(_programs.Path, image), Parameters("""{"args": ["x"]}""")));
    }

    [Theory]
    [InlineData("tools2/run", "tools", "tools2/run")]
    [InlineData("other/run", "tools, tools/run", "other/run")]
    [InlineData("tools/../other/run", "tools", "other/run")]
    public async Task An_executable_outside_the_listed_folders_is_refused_by_whole_segments_after_dots(string image, string allowed, string resolved)
    {
        var val = await ActiveAsync(new() { ["allowed_executables"] = In(allowed) });
        var written = Path.Combine(_programs.Path, image);
        var real = Path.Combine(_programs.Path, resolved);

        Assert.Equal([Refusal(written == real ? written : $"{written} (that is {real})", real)], val.ValidateImage(written, Parameters()));
    }

    [Fact]
    public async Task A_link_in_an_allowed_folder_is_judged_by_the_file_it_leads_to()
    {
        var outside = Path.Combine(_programs.Path, "other", "run");
        File.CreateSymbolicLink(Path.Combine(Tools, "escape"), outside);
        File.CreateSymbolicLink(Path.Combine(Tools, "alias"), "run");
        var val = await ActiveAsync(new() { ["allowed_executables"] = Tools });

        Assert.Equal([Refusal($"{Tools}/escape (that is {outside})", outside)], val.ValidateImage(Path.Combine(Tools, "escape"), Parameters()));
        Assert.Empty(val.ValidateImage(Path.Combine(Tools, "alias"), Parameters()));
    }

    [Fact]
    public async Task A_bare_name_is_checked_where_the_path_finds_it_and_one_it_does_not_find_cannot_be_checked()
    {
        var val = await ActiveAsync(new() { ["allowed_executables"] = "/bin, /usr/bin" });

        Assert.Empty(val.ValidateImage("sleep", Parameters()));
        Assert.Equal(["name: 'motey-no-such-program' is not on this node's PATH, so it cannot be checked against [PROCESS] allowed_executables; "
            + "give the executable's absolute path"], val.ValidateImage("motey-no-such-program", Parameters()));
    }

    [Fact]
    public async Task Parameter_problems_are_reported_beside_the_executables()
    {
        var val = await ActiveAsync([]);
        var program = Path.Combine(Tools, "run");

        Assert.Equal([Refusal(program, program), "parameters.colour: unknown parameter (known: args, env, working_directory, stop_timeout)"],
            val.ValidateImage(program, Parameters("""{"colour": "red"}""")));
    }

    [Fact]
    public async Task A_create_of_a_forbidden_executable_a_peer_asks_for_fails_with_the_same_message_and_launches_nothing()
    {
        var val = await ActiveAsync(new() { ["allowed_executables"] = Path.Combine(_programs.Path, "other") });
        var program = Path.Combine(Tools, "run");

        var error = await Assert.ThrowsAsync<ValException>(() => val.CreateInstanceAsync(Spec(program), default));

        Assert.Equal(Refusal(program, program), error.Message);
        Assert.Empty(await val.GetRunningInstancesAsync(default));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data.Path, "instances")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data.Path, "logs")));
    }

    [Fact]
    public async Task An_agent_running_as_root_runs_instances_as_nobody_with_nobodys_groups_and_home()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test runs as root, as the agent does under systemd");
        var val = await ActiveAsync(new() { ["allowed_executables"] = "/bin, /usr/bin" });

        var pid = await RunAsync(val, "sleep");

        var nobody = UserAccounts.Find("nobody")!;
        Assert.Equal(Ids(nobody.Uid), Status(pid, "Uid"));
        Assert.Equal(Ids(nobody.Gid), Status(pid, "Gid"));
        Assert.DoesNotContain("0", Status(pid, "Groups").Split(' '));  // root's supplementary groups were dropped
        Assert.Contains($"HOME={nobody.Home}", ProcFsProbe.Environment(pid));
        Assert.Contains("USER=nobody", ProcFsProbe.Environment(pid));
        // The launcher entered the working directory before it switched user: the data folder, as for every instance.
        Assert.Equal(_data.Path, ProcFsProbe.WorkingDirectory(pid));
    }

    /// <summary>
    /// The blueprint's env reaches the program run as nobody, and nothing that runs as root on the way: LD_PRELOAD set
    /// on the launcher would run a library as root before the switch. The dynamic loader complains once per process that
    /// gets a preload it cannot find: once, from the program, means setpriv (root) never saw it.
    /// </summary>
    [Fact]
    public async Task The_blueprints_env_reaches_only_the_program_never_the_launcher_that_runs_as_root()
    {
        var val = await ActiveAsync(new() { ["allowed_executables"] = "/bin, /usr/bin" });

        var pid = await RunAsync(val, "sleep", """{"args": [300], "env": {"LD_PRELOAD": "/nonexistent/motey-test.so", "MARK": "blueprint"}}""");

        Assert.Equal(Ids(UserAccounts.Find("nobody")!.Uid), Status(pid, "Uid"));
        Assert.Contains("MARK=blueprint", ProcFsProbe.Environment(pid));
        var log = Directory.GetFiles(_data.Path, "*.log", SearchOption.AllDirectories).Single();
        await Wait.UntilAsync(() => File.ReadAllText(log).Contains("cannot be preloaded", StringComparison.Ordinal), "the program's loader warns", Deadline);
        Assert.Single(File.ReadAllLines(log), l => l.Contains("cannot be preloaded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_as_names_the_user_instances_run_as()
    {
        var daemon = UserAccounts.Find("daemon")!;
        var val = await ActiveAsync(new() { ["allowed_executables"] = "/bin, /usr/bin", ["run_as"] = "daemon" });

        var pid = await RunAsync(val, "sleep");

        Assert.Equal(Ids(daemon.Uid), Status(pid, "Uid"));
        Assert.Equal(Ids(daemon.Gid), Status(pid, "Gid"));
    }

    [Fact]
    public async Task Run_as_root_keeps_the_agents_user_when_the_operator_says_so()
    {
        var val = await ActiveAsync(new() { ["allowed_executables"] = "/bin, /usr/bin", ["run_as"] = "root" });

        var pid = await RunAsync(val, "sleep");

        Assert.Equal(Ids(0), Status(pid, "Uid"));
    }

    private static readonly AgentUser Alice = new(1000, "alice");

    private static ProcessSettings Read(AgentUser agent, string? runAs, bool canSwitchUser = true, Func<string, UserAccount?>? users = null)
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["run_as"] = runAs }).Build();
        users ??= name => name switch
        {
            "alice" => new UserAccount("alice", 1000, 1000, "/home/alice"),
            "nobody" => new UserAccount("nobody", 65534, 65534, "/nonexistent"),
            _ => null,
        };
        return ProcessSettings.Read(section, agent, users, canSwitchUser);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("alice")]
    public void An_agent_that_is_not_root_runs_instances_as_its_own_user(string? runAs)
    {
        Assert.Null(Read(Alice, runAs).RunAs);
    }

    [Fact]
    public void An_agent_that_is_not_root_refuses_to_run_instances_as_another_user()
    {
        var error = Assert.Throws<ValException>(() => Read(Alice, "nobody"));

        Assert.Equal("[PROCESS] run_as: the agent runs as 'alice', not as root, so instances can only run as 'alice', not as 'nobody'; "
            + "leave run_as empty, or run the agent as root", error.Message);
    }

    [Theory]
    [InlineData("ghost", true, null, "[PROCESS] run_as: this node has no user 'ghost'")]
    [InlineData("no body", true, null, "[PROCESS] run_as: expected a user name, got 'no body'")]
    [InlineData("nobody", false, null, "[PROCESS] run_as: running instances as 'nobody' needs setpriv (util-linux), which this node does not have")]
    [InlineData("", true, "nobody", "[PROCESS] run_as: the agent runs as root, so instances run as user nobody unless run_as names another, and this node has no user nobody")]
    public void A_run_as_a_root_agent_cannot_honour_fails_activation_naming_the_key(string runAs, bool canSwitchUser, string? missing, string message)
    {
        var root = new AgentUser(0, "root");
        var error = Assert.Throws<ValException>(() => Read(root, runAs, canSwitchUser,
            missing is null ? null : name => name == missing ? null : new UserAccount(name, 5, 5, "/")));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("tools/run", "[PROCESS] allowed_executables: expected absolute paths of executables or of folders, separated by commas, got 'tools/run'")]
    [InlineData("/usr/bin, ~/bin", "[PROCESS] allowed_executables: expected absolute paths of executables or of folders, separated by commas, got '~/bin'")]
    [InlineData("/usr/bin;/bin", null)]
    public async Task A_bad_allow_list_fails_activation_naming_the_key(string value, string? message)
    {
        Task Activate() => new ProcessVal().ActivateAsync(Context(_data.Path, new Dictionary<string, string?> { ["allowed_executables"] = value }), default);

        if (message is null)
        {
            await Activate();  // a semicolon is part of a path, odd but absolute
            return;
        }
        Assert.Equal(message, (await Assert.ThrowsAsync<ValException>(Activate)).Message);
    }

    private string In(string relative) =>
        string.Join(", ", relative.Split(',', StringSplitOptions.TrimEntries).Select(p => Path.Combine(_programs.Path, p)));

    private async Task<int> RunAsync(ProcessVal val, string image, string parameters = """{"args": [300]}""")
    {
        var id = await val.CreateInstanceAsync(Spec(image, parameters), default);
        _created.Add((val, id));
        await val.StartInstanceAsync(id, default);
        var pid = PidOf(id);
        // The held launcher execs setpriv, which execs the program: judge the program, not a step on the way.
        await Wait.UntilAsync(() => ProcFsProbe.CommandLine(pid) is [var first, ..] && first.EndsWith("sleep", StringComparison.Ordinal),
            "the instance runs its program", Deadline);
        return pid;
    }

    /// <summary>A line of /proc/&lt;pid&gt;/status: <c>Uid</c> and <c>Gid</c> give real, effective, saved and file-system ids.</summary>
    private static string Status(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim().Replace('\t', ' ');

    private static string Ids(uint id) => string.Join(' ', Enumerable.Repeat(id, 4));
}
