using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;

namespace Motey.Host.CommandLine.Client;

/// <summary>`motey nodes`, `motey capabilities ls|add|rm` and `motey plugins [rescan]`: what a node knows and offers, over REST.</summary>
internal static class ClusterCommands
{
    public static Command Nodes(ClientOptions options, CliConsole console)
    {
        var command = options.With(new Command("nodes", "the nodes the node knows, itself first: address, whether it is the node asked, last seen"));
        options.SetAction(command, console, async (_, api, ct) =>
        {
            var body = await api.GetStringAsync("/v1/nodes", ct);
            if (api.Json)
            {
                api.WriteJson(body);
                return 0;
            }
            var table = new TableWriter("ADDRESS", "SELF", "LAST SEEN");
            foreach (var node in Elements(body))
            {
                var seen = node.TryGetProperty("last_seen", out var s) && s.TryGetDateTimeOffset(out var at)
                    ? at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) : "";
                table.Add(Text(node, "ip"), node.TryGetProperty("self", out var self) && self.ValueKind == JsonValueKind.True ? "yes" : "", seen);
            }
            table.Write(api.Console.Out);
            return 0;
        });
        return command;
    }

    public static Command Plugins(ClientOptions options, CliConsole console)
    {
        var command = options.With(new Command("plugins",
            "the node's VAL plugins: engine type, state, version, since when it is loaded, the last reload, problems"));
        options.SetAction(command, console, async (_, api, ct) => WritePlugins(api, await api.GetStringAsync("/v1/plugins", ct)));
        var rescan = new Command("rescan",
            "scan the node's plugins folder now (POST /v1/plugins/rescan): plugins added, updated and removed to match it; then the list");
        options.SetAction(rescan, console, async (_, api, ct) =>
        {
            using var response = await api.SendAsync(HttpMethod.Post, "/v1/plugins/rescan", null, ct);
            return WritePlugins(api, await api.ReadAsync(response, ct));
        });
        command.Subcommands.Add(rescan);
        return command;
    }

    /// <summary>The plugin list as a table (or the node's JSON with --json); a failed last reload is the problem shown.</summary>
    private static int WritePlugins(NodeApi api, string body)
    {
        if (api.Json)
        {
            api.WriteJson(body);
            return 0;
        }
        var table = new TableWriter("NAME", "TYPE", "STATE", "VERSION", "LOADED", "ENGINE", "LAST RELOAD", "PROBLEM");
        foreach (var plugin in Elements(body))
        {
            var available = plugin.TryGetProperty("engine_available", out var a) && a.ValueKind == JsonValueKind.True;
            var reload = plugin.TryGetProperty("last_reload", out var r) && r.ValueKind == JsonValueKind.Object ? r : (JsonElement?)null;
            var lastReload = reload is { } last ? $"{Text(last, "outcome")} {Time(last, "at")}" : "-";
            var problem = Text(plugin, "error") ?? (reload is { } failed && Text(failed, "outcome") == "failed" ? Text(failed, "error") : null)
                ?? Text(plugin, "engine_problem");
            table.Add(Text(plugin, "name"), Text(plugin, "type") ?? "-", Text(plugin, "state"), Text(plugin, "version") ?? "-",
                Time(plugin, "loaded_at") ?? "-", available ? "available" : "unavailable", lastReload, problem);
        }
        table.Write(api.Console.Out);
        return 0;
    }

    private static string? Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var at)
            ? at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) : null;

    public static Command Capabilities(ClientOptions options, CliConsole console)
    {
        var command = options.With(new Command("capabilities",
            "the node's capabilities over its REST API (`motey capability` sends capability events to the capability engine instead)"));
        var list = new Command("ls", "the node's capabilities: name and type");
        options.SetAction(list, console, async (_, api, ct) =>
        {
            var body = await api.GetStringAsync("/v1/capabilities", ct);
            if (api.Json)
            {
                api.WriteJson(body);
                return 0;
            }
            var table = new TableWriter("CAPABILITY", "TYPE");
            foreach (var c in Elements(body)) table.Add(Text(c, "capability"), Text(c, "capability_type"));
            table.Write(api.Console.Out);
            return 0;
        });
        command.Subcommands.Add(list);
        command.Subcommands.Add(Change(options, console, "add", "add a capability (PUT /v1/capabilities)", "PUT"));
        command.Subcommands.Add(Change(options, console, "rm", "remove a capability (DELETE /v1/capabilities)", "DELETE"));
        return command;
    }

    /// <param name="method">The method's name: the <see cref="HttpMethod"/> is made when the command runs, so building the
    /// command line (for <c>motey run</c> too) does not load System.Net.Http into the agent (1.1 MiB resident).</param>
    private static Command Change(ClientOptions options, CliConsole console, string verb, string description, string method)
    {
        var name = new Argument<string>("NAME") { Description = "the capability" };
        var type = new Option<string>("--type") { Description = "its type", HelpName = "TYPE", DefaultValueFactory = _ => "hardware" };
        var command = new Command(verb, description) { name, type };
        options.SetAction(command, console, async (result, api, ct) =>
        {
            var capability = new Capability(result.GetValue(name)!, result.GetValue(type)!);
            if (NodeCapabilities.Refusal(capability) is { } refusal) throw new CliException(CliException.BadUsage, refusal);
            var json = JsonSerializer.Serialize(new[] { capability });
            using var response = await api.SendAsync(HttpMethod.Parse(method), "/v1/capabilities", new StringContent(json, Encoding.UTF8, "application/json"), ct);
            if (response.StatusCode != HttpStatusCode.NotModified) await api.ReadAsync(response, ct);
            if (api.Json) return 0;  // 201 and 304 have no body: the exit code says it
            var what = $"{capability.Name} ({capability.Type})";
            api.Console.Out.WriteLine((verb, response.StatusCode) switch
            {
                ("add", HttpStatusCode.NotModified) => $"{what}: the node has it already",
                ("add", _) => $"added {what}",
                (_, HttpStatusCode.NotModified) => $"{what}: the node does not have it",
                _ => $"removed {what}",
            });
            return 0;
        });
        return command;
    }

    private static List<JsonElement> Elements(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new CliException(CliException.Failed, $"the node's answer is not the list expected: {e.Message}");
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
