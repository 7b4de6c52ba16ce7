using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// The cluster key as a user handles it: made by `motey keys generate`, copied to each node, named by [ZEROMQ]
/// cluster_key; real agent processes that share it place images on each other, one with another key gets nothing.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class CurveAgentTests : IAsyncLifetime
{
    /// <summary>The process engine runs nothing it is not allowed to: the test's image is sleep.</summary>
    private const string SleepAllowed = "/bin/sleep, /usr/bin/sleep";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const string LabImage = "service_name: remote\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [300]}\n  capabilities: [lab]\n";

    private readonly TestScope _scope = new("motey-curve-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    /// <summary>Makes a key with the command, as a user does, and copies it (owner-only) into <paramref name="folders"/>.</summary>
    private async Task<string> GenerateKeyAsync(string name, params string[] folders)
    {
        var made = Path.Combine(_scope.Folder("keys"), name);
        var (code, output) = await AgentProcess.CommandAsync("keys", "generate", "--out", made);
        Assert.True(code == 0, output);
        foreach (var folder in folders)
        {
            File.Copy(made, Path.Combine(folder, "cluster.key"));
            File.SetUnixFileMode(Path.Combine(folder, "cluster.key"), OwnerOnly);
        }
        return made;
    }

    private static async Task<List<JsonElement>> ListAsync(AgentProcess agent, string path) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>(path))!;

    private static async Task<Service> PostAsync(AgentProcess agent, string yaml)
    {
        var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of(yaml));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    [Fact]
    public async Task Keys_generate_writes_an_owner_only_key_refuses_to_replace_it_and_show_prints_its_fingerprint()
    {
        var path = Path.Combine(_scope.Folder("keys"), "cluster.key");

        var (code, output) = await AgentProcess.CommandAsync("keys", "generate", "--out", path);
        Assert.Equal(0, code);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        var fingerprint = output.Split('\n').Single(l => l.StartsWith("fingerprint: ", StringComparison.Ordinal))["fingerprint: ".Length..].Trim();
        Assert.Contains("copy this file to every node", output);
        var written = File.ReadAllText(path);

        (code, output) = await AgentProcess.CommandAsync("keys", "generate", "--out", path);
        Assert.Equal(1, code);
        Assert.Contains("--force", output);
        Assert.Equal(written, File.ReadAllText(path));

        (code, output) = await AgentProcess.CommandAsync("keys", "show", path);
        Assert.Equal(0, code);
        Assert.Contains($"fingerprint {fingerprint}", output);
        foreach (var line in written.Split('\n').Where(l => l.Contains(" = ", StringComparison.Ordinal)))
            Assert.DoesNotContain(line.Split(" = ", 2)[1].Trim(), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nodes_sharing_a_key_place_remotely_and_a_node_with_another_key_cannot_place_publish_or_deploy_on_them()
    {
        var (aFolder, cFolder, dFolder) = (_scope.Folder("a"), _scope.Folder("c"), _scope.Folder("d"));
        await GenerateKeyAsync("cluster.key", aFolder, cFolder);
        await GenerateKeyAsync("other.key", dFolder);
        var (aAddress, cAddress) = (AgentProcess.NextAddress(), AgentProcess.NextAddress());
        var a = _scope.Add(AgentProcess.Start(aFolder, aAddress, new Dictionary<string, string>
        {
            ["ZEROMQ:cluster_key"] = "cluster.key", ["PROCESS:allowed_executables"] = SleepAllowed,
        }));
        var c = _scope.Add(AgentProcess.Start(cFolder, cAddress, new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external", ["MQTT:ip"] = aAddress, ["ZEROMQ:cluster_key"] = "cluster.key",
            // Capability events from anywhere: a CURVE server, and `motey capability` must bring the key.
            ["ZEROMQ:capability_publishers"] = "any",
            ["PROCESS:allowed_executables"] = SleepAllowed,
        }));
        await a.WaitHealthyAsync();
        await c.WaitHealthyAsync();
        await Wait.UntilAsync(async () => (await ListAsync(a, "/v1/nodes")).Count == 2, "node A knows node C", detail: () => a.Output);

        // `motey capability` with C's config brings the key; the same command without the key is not heard.
        var (code, output) = await AgentProcess.CommandAsync("capability", "add", "lab", "--config", Path.Combine(cFolder, "config.ini"));
        Assert.True(code == 0, output);
        var (noKeyConfig, _) = AgentProcess.WriteConfig(_scope.Folder("cli"), cAddress,
            new Dictionary<string, string> { ["ZEROMQ:capability_publishers"] = "any" });
        (code, output) = await AgentProcess.CommandAsync("capability", "add", "rogue", "--config", noKeyConfig);
        Assert.Equal(1, code);
        Assert.Contains("no capability event listener subscribed", output);
        var capabilities = await c.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities");
        Assert.Contains(new Capability("lab", "hardware"), capabilities!);
        Assert.DoesNotContain(capabilities!, x => x.Name == "rogue");

        var first = await PostAsync(a, LabImage);
        Assert.Equal(cAddress, (await a.WaitForServiceAsync(first.Id, ServiceState.Running)).Images.Single().Node);

        // A node with another key joins membership (MQTT) but no node answers it over ZeroMQ.
        var d = _scope.Add(AgentProcess.Start(dFolder, settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external", ["MQTT:ip"] = aAddress, ["ZEROMQ:cluster_key"] = "cluster.key",
            ["PROCESS:allowed_executables"] = SleepAllowed,
        }));
        await d.WaitHealthyAsync();
        await Wait.UntilAsync(async () => (await ListAsync(d, "/v1/nodes")).Count == 3, "node D hears of A and C", detail: () => d.Output);
        var refused = await PostAsync(d, LabImage);
        var waiting = await Wait.ForAsync(() => d.Client.GetFromJsonAsync<Service>($"/v1/service/{refused.Id}")!,
            s => s!.StateMessage.Contains("waiting for a node that can run it", StringComparison.Ordinal), "node D finds no node to run the image",
            s => $"{s?.State}: {s?.StateMessage}\n{d.Output}");
        Assert.Equal(ServiceState.Initial, waiting!.State);
        Assert.True(string.IsNullOrEmpty(waiting.Images.Single().Node), waiting.StateMessage);

        var log = Path.Combine(cFolder, "logs", "motey.log");
        await Wait.UntilAsync(() => File.ReadAllText(log).Contains("Refused a connection from 127.", StringComparison.Ordinal),
            "node C logs the node without its key", detail: () => File.ReadAllText(log));
        // C runs the first service's instance and nothing of D's (its Docker VAL also lists other tests' containers).
        var instances = await ListAsync(c, "/v1/instances");
        Assert.Single(instances, i => i.GetProperty("service_id").GetString() == first.Id);
        Assert.DoesNotContain(instances, i => i.GetProperty("service_id").GetString() == refused.Id);
        Assert.Equal(HttpStatusCode.NoContent, (await c.Client.GetAsync("/v1/heartbeat")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await a.Client.GetAsync("/v1/heartbeat")).StatusCode);

        var second = await PostAsync(a, LabImage.Replace("remote", "again", StringComparison.Ordinal));
        Assert.Equal(cAddress, (await a.WaitForServiceAsync(second.Id, ServiceState.Running)).Images.Single().Node);
    }
}
