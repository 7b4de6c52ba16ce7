using System.Text;
using System.Text.Json;
using MQTTnet;

namespace Motey.Bench;

/// <summary>
/// One <c>motey-bench fake-peers --plan live</c> process with MQTT members on the given brokers, started and waited for
/// ("ready"), its counters read from its stats file.
/// </summary>
internal sealed class PeerFleet : IAsyncDisposable
{
    private PeerFleet(ChildProcess process, string statsFile, string churnFile, int count)
    {
        Process = process;
        StatsFile = statsFile;
        ChurnFile = churnFile;
        Count = count;
    }

    public ChildProcess Process { get; }
    public string StatsFile { get; }
    public string ChurnFile { get; }
    public int Count { get; }
    public IReadOnlyList<string> Addresses => PeerPlan.LiveAddresses(Count);

    /// <summary>Starts <paramref name="count"/> peers on <paramref name="brokers"/> (host:port; peer k on the (k mod n)-th); waits up to 60 s + 60 ms per peer.</summary>
    public static async Task<PeerFleet> StartAsync(BenchContext context, string name, int count, IReadOnlyList<string> brokers, bool legacy, bool subscribeAll, int churnRate = 100, bool zeroMq = true)
    {
        var folder = context.NewFolder(name);
        var stats = Path.Combine(folder, "stats.json");
        var churn = Path.Combine(folder, "churn");
        List<string> arguments = ["fake-peers", "--plan", "live", "--count", $"{count}", "--mqtt", string.Join(',', brokers),
            "--subscribe", subscribeAll ? "all" : "requests", "--stats", stats, "--churn-file", churn, "--churn-rate", $"{churnRate}"];
        if (legacy) arguments.Add("--legacy");
        if (!zeroMq) arguments.Add("--no-zeromq");
        var process = ChildProcess.Start(context.BenchExecutable, arguments, Path.Combine(folder, "fake-peers.log"));
        var fleet = new PeerFleet(process, stats, churn, count);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60 + 0.06 * count);
            while (true)
            {
                var log = File.Exists(process.LogPath) ? File.ReadAllText(process.LogPath) : "";
                if (log.Contains("ready:", StringComparison.Ordinal)) break;
                if (process.HasExited || log.Contains("failed:", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                    throw new BenchException($"the {count} fake peers did not get ready:\n{process.Tail()}");
                await Task.Delay(100);
            }
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    public PeerStats? Stats()
    {
        try
        {
            return JsonSerializer.Deserialize<PeerStats>(File.ReadAllText(StatsFile));
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits until the peers have received nothing new for <paramref name="still"/> (bounded by <paramref name="timeout"/>); returns their counters.</summary>
    public async Task<PeerStats> WaitQuietAsync(TimeSpan still, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = Stats();
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            var now = Stats();
            if (now is null) continue;
            if (last is null || now.Received != last.Received || now.Answered != last.Answered) since = DateTime.UtcNow;
            else if (DateTime.UtcNow - since >= still) return now;
            last = now;
        }
        return last ?? throw new BenchException($"the fake peers wrote no counters to {StatsFile}");
    }

    public void StartChurn() => File.WriteAllText(ChurnFile, "");

    public void StopChurn() => File.Delete(ChurnFile);

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>
    /// Publishes each address on motey/v1/register at the broker (the dead peers: registered, nothing listens); waits
    /// until the agent lists every one of <paramref name="expected"/>, publishing the unlisted ones of them again every 5 s (QoS 0).
    /// </summary>
    public static async Task RegisterAsync(BenchContext context, AgentNode agent, string brokerHost, IReadOnlyList<string> addresses, IReadOnlyCollection<string> expected, TimeSpan timeout)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var connected = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(brokerHost, AgentNode.MqttPort)
            .WithClientId($"motey-bench-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .Build());
        if (connected.ResultCode != MqttClientConnectResultCode.Success) throw new BenchException($"the broker at {brokerHost} refused the connection: {connected.ResultCode}");
        var deadline = DateTime.UtcNow + timeout;
        var toSend = addresses.ToList();
        var resent = 0;
        var sent = DateTime.MinValue;
        while (true)
        {
            if (DateTime.UtcNow - sent >= TimeSpan.FromSeconds(5) && toSend.Count > 0)
            {
                if (sent != DateTime.MinValue) resent += toSend.Count;
                foreach (var address in toSend)
                    await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(MqttPeers.Register).WithPayload(Encoding.UTF8.GetBytes(address)).Build());
                sent = DateTime.UtcNow;
            }
            await Task.Delay(200);
            var listed = await agent.NodeAddressesAsync();
            var missing = expected.Where(a => !listed.Contains(a)).ToList();
            toSend = missing;  // a live peer's own register may have been missed too (QoS 0): its address is the same message
            if (missing.Count == 0) break;
            if (DateTime.UtcNow > deadline)
                throw new BenchException($"the agent lists {listed.Count} nodes after {timeout.TotalSeconds:0} s, expected {expected.Count + 1} (missing e.g. {string.Join(", ", missing.Take(3))}), after resending {resent} registrations");
        }
        if (resent > 0) context.Log($"{resent} registrations were sent again before the agent listed every peer");
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
    }
}
