namespace Motey.Dashboard.Tests;

/// <summary>
/// One built agent run as its own process on a loopback address of its own, hosting its embedded broker, for every
/// test of a class (an agent per test would cost a start each on a 2-core machine): tests name their services uniquely.
/// </summary>
public class DashboardAgent : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-dashboard-");
    private AgentProcess? _agent;

    internal AgentProcess Agent => _agent ?? throw new InvalidOperationException("the agent is not started");

    /// <summary>config.ini settings ("SECTION:key") on top of the end-to-end defaults.</summary>
    private protected virtual Dictionary<string, string> Settings(string folder) => new()
    {
        // A simulated instance prints a line this often: the logs test sees new lines arrive within a second.
        ["SIMULATED:log_interval_ms"] = "400",
    };

    /// <summary>How the test reaches the API (the page gets nothing of it: it asks the user).</summary>
    private protected virtual RestAccess Access => RestAccess.Plain;

    public async Task InitializeAsync()
    {
        var folder = _scope.Folder("node");
        _agent = _scope.Add(AgentProcess.Start(folder, settings: Settings(folder), access: Access));
        await _agent.WaitHealthyAsync();
    }

    public Task DisposeAsync() => _scope.StopAsync();
}

/// <summary>An agent whose REST API wants tokens (a read and an admin one, in an owner-only file); plain HTTP on loopback.</summary>
public sealed class TokenAgent : DashboardAgent
{
    public const string ReadToken = "dashboard-read-0123456789abcdef";
    public const string AdminToken = "dashboard-admin-0123456789abcdef";

    private protected override Dictionary<string, string> Settings(string folder)
    {
        var tokens = Path.Combine(folder, "tokens");
        File.WriteAllText(tokens, $"# the dashboard test's tokens\nread {ReadToken}\nadmin {AdminToken}\n");
        File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var settings = base.Settings(folder);
        settings["WEBSERVER:tokens"] = tokens;
        return settings;
    }

    private protected override RestAccess Access => new(Token: AdminToken);
}

/// <summary>
/// Two agents in one cluster: A hosts the embedded broker and has capability "gateway", B joins it and has "lab". A
/// service whose images need one or the other runs on both, and A's dashboard shows where.
/// </summary>
public sealed class TwoNodeCluster : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-dashboard-cluster-");

    internal AgentProcess A { get; private set; } = null!;
    internal AgentProcess B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var a = AgentProcess.NextAddress();
        A = _scope.Add(AgentProcess.Start(_scope.Folder("a"), a, new Dictionary<string, string> { ["MQTT:broker"] = "embedded" }));
        await A.WaitHealthyAsync();
        B = _scope.Add(AgentProcess.Start(_scope.Folder("b"), settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a,
            ["MQTT:reconnect_max"] = "1",
        }));
        await B.WaitHealthyAsync();
        await A.AddCapabilityAsync("gateway", "hardware");
        await B.AddCapabilityAsync("lab", "hardware");
        await Wait.UntilAsync(async () => (await A.NodesAsync()).Contains(B.Address) && (await B.NodesAsync()).Contains(A.Address),
            "A and B list each other", TimeSpan.FromSeconds(30), detail: () => A.Output + B.Output);
    }

    public Task DisposeAsync() => _scope.StopAsync();
}
