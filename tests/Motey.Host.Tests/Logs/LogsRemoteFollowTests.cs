using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Logs;

/// <summary>Node A follows, through GET /v1/service/{id}/logs, an instance that runs on node B (in-process, joined through A's broker).</summary>
public sealed class LogsRemoteFollowTests
{
    [Fact]
    public async Task A_follower_who_leaves_during_the_first_line_wait_closes_the_remote_session_at_once()
    {
        using var folderA = new TestFolder();
        using var folderB = new TestFolder();
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Process]);
        await using var b = await TestNode.StartAsync(folderB, [TestNode.Flaky],
            new Dictionary<string, string> { ["MQTT:broker"] = "external", ["MQTT:ip"] = a.Address });
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == 2, "node A knows node B");
        var posted = await a.PostBlueprintAsync("service_name: quiet\nimages:\n- name: quiet\n  engine: flaky\n");
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var id = (await posted.Content.ReadFromJsonAsync<Service>())!.Id;
        var running = await a.WaitForServiceAsync(id, s => s.Images[0].State == ImageState.Running);
        Assert.Equal(b.Address, running.Images[0].Node);
        var sessions = b.Services.GetServices<IHostedService>().OfType<PeerRepliers>().Single().LogSessions;

        using (var client = new HttpClient { BaseAddress = a.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan })
        using (var leave = new CancellationTokenSource())
        {
            var request = client.GetAsync($"/v1/service/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead, leave.Token);
            await Wait.UntilAsync(() => sessions.Count == 1, "node B has a log session open for A");
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        }

        // Well before B's 30 s idle sweep: A closed the session when its reader went away.
        await Wait.UntilAsync(() => sessions.Count == 0, "node B's log session is closed", TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync($"/v1/service/{id}/logs")).StatusCode);
    }
}
