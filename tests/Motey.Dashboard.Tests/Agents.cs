using System.Net.Http.Json;
using Motey.Host.Core.Model;

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

/// <summary>What the tests ask of an agent's REST API directly: to set up a scene, or to check what the page did.</summary>
internal static class Api
{
    /// <summary>Posts <paramref name="yaml"/> and returns the new service's id.</summary>
    public static async Task<string> DeployAsync(this AgentProcess agent, string yaml)
    {
        using var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of(yaml));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /v1/service answered {(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The services named <paramref name="name"/> (a test's names are unique: one, once it posted).</summary>
    public static async Task<List<Service>> ServicesNamedAsync(this AgentProcess agent, string name) =>
        (await agent.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!.Where(s => s.ServiceName == name).ToList();

    /// <summary>Adds a capability through PUT /v1/capabilities.</summary>
    public static async Task AddCapabilityAsync(this AgentProcess agent, string capability, string type)
    {
        using var response = await agent.Client.PutAsJsonAsync("/v1/capabilities", new[] { new { capability, capability_type = type } });
        Assert.True(response.IsSuccessStatusCode, $"PUT /v1/capabilities answered {(int)response.StatusCode}");
    }

    /// <summary>Whether GET /v1/capabilities lists that capability.</summary>
    public static async Task<bool> HasCapabilityAsync(this AgentProcess agent, string capability, string type)
    {
        var list = await agent.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/capabilities");
        return list!.Any(c => c.GetProperty("capability").GetString() == capability && c.GetProperty("capability_type").GetString() == type);
    }

    /// <summary>The addresses GET /v1/nodes lists.</summary>
    public static async Task<HashSet<string>> NodesAsync(this AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToHashSet();

    /// <summary>A name no other test of this run uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
}
