using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// Two agents as real processes: A has no plugins, B the simulated one, so what is posted to A runs on B. A's
/// GET /v1/service/{id}/logs reads the instance through B (the motey-logs/1 peer message), following included.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class LogsClusterTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-logs-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    [Fact]
    public async Task A_remote_image_s_logs_are_read_and_followed_through_the_node_that_runs_it()
    {
        var folderA = _scope.Folder("a");
        var a = _scope.Add(AgentProcess.Start(folderA, settings: new Dictionary<string, string>
        {
            ["PLUGINS:path"] = Directory.CreateDirectory(Path.Combine(folderA, "no-plugins")).FullName,
        }));
        await a.WaitHealthyAsync();
        var folderB = _scope.Folder("b");
        CopyFolder(Path.Combine(Build.AgentDirectory, "plugins", "Motey.Val.Simulated"), Path.Combine(folderB, "plugins", "Motey.Val.Simulated"));
        var b = _scope.Add(AgentProcess.Start(folderB, settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
            ["PLUGINS:path"] = "plugins",
            ["SIMULATED:log_interval_ms"] = "100",
        }));
        await b.WaitHealthyAsync();

        var posted = await a.Client.PostAsync("/v1/service", YamlBody.Of("service_name: far\nimages:\n- name: web\n  engine: simulated\n"));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var id = (await posted.Content.ReadFromJsonAsync<Service>())!.Id;
        var running = await a.WaitForServiceAsync(id, ServiceState.Running);
        Assert.Equal(b.Address, running.Images[0].Node);
        var instance = running.Images[0].Id;

        // Read through A: the lines B's instance printed.
        var text = await Wait.ForAsync(() => a.Client.GetStringAsync($"/v1/service/{id}/logs"), t => t.Contains(": line 2\n", StringComparison.Ordinal),
            "A shows the remote instance's lines", t => $"{t}\n{a.Output}", TimeSpan.FromSeconds(30));
        Assert.StartsWith($"simulated instance {instance} of web starting\nsimulated instance {instance} of web running\n", text);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/service/{id}/logs?tail=1");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var last = JsonSerializer.Deserialize<LogLine>((await (await a.Client.SendAsync(request)).Content.ReadAsStringAsync()).TrimEnd('\n'))!;
        Assert.Matches("^simulated instance .* of web: line [0-9]+$", last.Text);
        Assert.NotNull(last.Time);

        // Follow through A: new lines arrive as B's instance prints them, and the stream ends when the service is deleted.
        using var client = new HttpClient { BaseAddress = a.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var follow = await client.GetAsync($"/v1/service/{id}/logs?follow=true&tail=0", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, follow.StatusCode);
        using var reader = new StreamReader(await follow.Content.ReadAsStreamAsync(deadline.Token));
        var first = (await reader.ReadLineAsync(deadline.Token))!;
        Assert.Matches("^simulated instance .* of web: line [0-9]+$", first);
        Assert.True(LineNumber(first) > LineNumber(last.Text), $"'{first}' was printed after '{last.Text}'");

        Assert.Equal(HttpStatusCode.Accepted, (await a.Client.DeleteAsync($"/v1/service/{id}")).StatusCode);
        string? end = null;
        while (await reader.ReadLineAsync(deadline.Token) is { } line) end = line;
        Assert.Equal($"simulated instance {instance} of web stopped", end);
    }

    private static int LineNumber(string text) => int.Parse(text[(text.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
