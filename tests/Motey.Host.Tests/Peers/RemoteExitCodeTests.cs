using System.Net;
using System.Net.Http.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Observe;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// An instance that ends by itself on another Motey.NET node is judged by its real exit code, asked from that node
/// (motey-exitcode/1): under the default restart policy (on-failure) a job that finished with 0 there is not run a
/// second time, and one that failed is replaced. Two in-process nodes over real sockets; only node B may run /bin/sh.
/// </summary>
public sealed class RemoteExitCodeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task A_process_that_ends_on_a_peer_is_judged_by_the_exit_code_the_peer_reports(int exitCode)
    {
        using var folderA = new TestFolder();
        using var folderB = new TestFolder();
        await using var a = await TestNode.StartAsync(folderA, [TestNode.Simulated]);
        await using var b = await TestNode.StartAsync(folderB, [TestNode.Process], new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = a.Address,
            ["PROCESS:allowed_executables"] = "/bin/sh",
        });
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<object>>("/v1/nodes"))!.Count == 2, "node A lists node B");

        await using var events = await EventStreamClient.OpenAsync(a.Client, "/v1/events?types=image");
        var response = await a.PostBlueprintAsync(
            $"service_name: job\nimages:\n- name: /bin/sh\n  engine: process\n  parameters: {{args: [-c, 'sleep 1; exit {exitCode}']}}\n");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;

        if (exitCode == 0)
        {
            var ended = await a.WaitForServiceAsync(service.Id, s => s.Images.Single().State == ImageState.Terminated, TimeSpan.FromSeconds(30));
            var image = ended.Images.Single();
            Assert.Equal(b.Address, image.Node);
            Assert.Equal(0, image.Restarts);
            Assert.Contains("exit code 0", image.StateMessage);
        }
        else
        {
            // The decision is one image event among several (the replacement runs on), so it is read from the stream.
            var seen = await events.ReadUntilAsync(e => e.Text("state_message").Contains("ended with exit code", StringComparison.Ordinal),
                "the image's instance ended");
            Assert.Contains($"ended with exit code {exitCode}; restart 1 in", seen[^1].Text("state_message"));
            await a.WaitForServiceAsync(service.Id, s => s.Images.Single().Restarts >= 1, TimeSpan.FromSeconds(30));
        }
        var metrics = await MetricsApiTests.ScrapeAsync(a.Client);
        Assert.True(metrics.Value("motey_peer_requests_total", ("kind", "exitcode"), ("outcome", "ok")) >= 1);
    }
}
