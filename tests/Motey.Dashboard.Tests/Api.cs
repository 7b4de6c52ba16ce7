using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.Dashboard.Tests;

/// <summary>What the tests ask of an agent's REST API directly: to set up a scene, or to check what the page did.</summary>
internal static class Api
{
    /// <summary>Posts <paramref name="yaml"/> and returns the new service's id.</summary>
    public static async Task<string> DeployAsync(this AgentProcess agent, string yaml)
    {
        using var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of(yaml));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /v1/service answered {(int)response.StatusCode}: {body}");
        using var created = JsonDocument.Parse(body);
        return created.RootElement.GetProperty("id").GetString()!;
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
        var list = await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/capabilities");
        return list!.Any(c => c.GetProperty("capability").GetString() == capability && c.GetProperty("capability_type").GetString() == type);
    }

    /// <summary>The addresses GET /v1/nodes lists.</summary>
    public static async Task<HashSet<string>> NodesAsync(this AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToHashSet();

    /// <summary>A name no other test of this run uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
}
