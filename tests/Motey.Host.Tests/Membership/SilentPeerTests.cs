using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Membership;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// A Motey.NET peer (it published a presence) whose leave never reached this node (it died during a broker or bridge
/// outage, or nobody cleared its retained presence) is found out by the next request it lets time out: it is checked
/// directly and dropped when it does not answer, so the images it ran are placed again. One that was only slow answers
/// the check and is kept. The peer here is a replier on its own address that publishes a presence as our nodes do.
/// </summary>
public sealed class SilentPeerTests
{
    private const string Blueprint = "service_name: on-original\nimages:\n- name: x\n  engine: simulated\n  capabilities: [lab]\n";

    [Fact]
    public async Task A_peer_that_died_unheard_is_dropped_after_a_request_times_out_and_its_image_is_placed_again()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        var original = new OriginalNode("""[{"capability": "simulated", "type": "plugin"}, {"capability": "lab", "type": "hardware"}]""");
        await JoinAsync(node, original);
        var service = await PostAsync(node);
        await node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running && s.Images.Single().Node == original.Address);

        // Gone without a word: no remove on the broker, its ports closed.
        await original.DisposeAsync();

        // The status polls time out, the direct checks fail, the peer is dropped and its image waits for a node
        // (no other node has "lab"), restarted once by its on-failure policy.
        var waiting = await node.WaitForServiceAsync(service.Id,
            s => s.State == ServiceState.Initial && s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.Equal(1, waiting.Images.Single().Restarts);
        Assert.DoesNotContain(original.Address, await NodeAddressesAsync(node));
    }

    [Fact]
    public async Task A_peer_that_stalls_past_one_request_timeout_answers_its_check_and_keeps_its_image()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated]);
        await using var original = new OriginalNode("""[{"capability": "simulated", "type": "plugin"}, {"capability": "lab", "type": "hardware"}]""");
        await JoinAsync(node, original);
        var service = await PostAsync(node);
        var running = await node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running && s.Images.Single().Node == original.Address);
        var checksBefore = await CapabilityRequestsAsync(node);

        // Longer than request_timeout (2 s), shorter than the three failed checks that drop a peer.
        original.StallNextStatus(TimeSpan.FromSeconds(3));
        await Wait.UntilAsync(async () => await CapabilityRequestsAsync(node) > checksBefore, "the stalled peer is checked directly (a capabilities request after the status timed out)");

        // Checked and kept: listed, its image RUNNING on it as the same instance, for longer than a drop would take.
        await Wait.HoldsAsync(async () =>
        {
            var now = await node.GetServiceAsync(service.Id);
            if (!(await NodeAddressesAsync(node)).Contains(original.Address)) return "the peer was dropped";
            return now.State == ServiceState.Running && now.Images.Single().Node == original.Address && now.Images.Single().Restarts == 0
                ? null : $"the image moved: {now.State} on {now.Images.Single().Node}, {now.StateMessage}";
        }, TimeSpan.FromSeconds(8));
        Assert.Equal(running.Images.Single().Id, (await node.GetServiceAsync(service.Id)).Images.Single().Id);
    }

    private static async Task JoinAsync(TestNode node, OriginalNode original)
    {
        await Wait.UntilAsync(async () => await node.Client.GetStringAsync("/healthz") == "Healthy", "the node has joined its embedded broker");
        await PublishPresenceAsync(node.Address, original.Address);
        await Wait.UntilAsync(async () => (await NodeAddressesAsync(node)).Contains(original.Address), "the node lists the peer");
    }

    /// <summary>A live presence of <paramref name="peer"/> with "simulated" and "lab", as a Motey.NET node publishes it when it joins.</summary>
    private static async Task PublishPresenceAsync(string brokerIp, string peer)
    {
        using var mqtt = new MqttClientFactory().CreateMqttClient();
        await mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(brokerIp, 1883).WithClientId($"presence-{peer}").Build());
        var presence = $$"""{"address":"{{peer}}","capabilities":[{"capability":"simulated","capability_type":"plugin"},{"capability":"lab","capability_type":"hardware"}],"agent":"test"}""";
        await mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Presence.Topic(peer)).WithPayload(presence).Build());
        await mqtt.DisconnectAsync();
    }

    private static async Task<List<string>> NodeAddressesAsync(TestNode node) =>
        (await node.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).ToList();

    private static async Task<Service> PostAsync(TestNode node)
    {
        var response = await node.PostBlueprintAsync(Blueprint);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    /// <summary>Capabilities requests this node sent that were answered (placement's and the direct checks').</summary>
    private static async Task<double> CapabilityRequestsAsync(TestNode node)
    {
        var metrics = await node.Client.GetStringAsync("/metrics");
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("motey_peer_requests_total{kind=\"capabilities\",outcome=\"ok\"}", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
