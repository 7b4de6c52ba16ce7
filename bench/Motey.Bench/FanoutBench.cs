using System.Diagnostics;
using System.Text;
using MQTTnet;

namespace Motey.Bench;

/// <summary>
/// 3. Placement fan-out: POST to RUNNING of an image whose capability only the last of N peers has, N = 10, 50, 100,
/// with 0 % and 20 % of the peers dead (registered addresses where nothing listens). Baseline: the same placement
/// with the capability on the agent itself (N = 0). Peers are simulated by <see cref="FakePeers"/> in one process and
/// injected into the agent's membership with <c>motey/v1/register</c> on its embedded MQTT broker.
/// 3b (<see cref="RunCurveAsync"/>): the same placements with CURVE, every node (agent and fake peers) given the same
/// cluster key, against plain placements measured in the same benchmark.
/// </summary>
internal static class FanoutBench
{
    private const string LivePrefix = "127.78.1";
    private const string CurvePrefix = "127.78.2";  // the CURVE peers: sorted after the dead ones, as the plain peers are
    private const string DeadPrefix = "127.78.0";
    private const int FirstHost = 100;  // three-digit last octets: address order (ordinal, as the agent sorts) is numeric order
    private static readonly int[] Sizes = [10, 50, 100];
    private static readonly int[] DeadPercents = [0, 20];

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("3. Placement fan-out", "Motey agent, N peers", "capability on the agent (N = 0)");
        section.Intro.Add($"Fake peers (one `motey-bench fake-peers` process, NetMQ ROUTER sockets on {LivePrefix}.{FirstHost}+k:5091–5094) answer capabilities, deploy, status (RUNNING) and terminate at once. "
            + $"Dead peers are registered addresses ({DeadPrefix}.x) where nothing listens. Only the last live peer in the agent's order has the capability. "
            + $"`[ZEROMQ] request_timeout = {context.PeerTimeoutSeconds}` (default 5). One fresh agent per configuration, one untimed warm-up placement, then {context.Runs} runs: "
            + "POST, poll GET /v1/service/{id} every 1 ms until RUNNING, check the image's node, DELETE.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        await using var peers = await StartPeersAsync(context, LivePrefix, null);
        var plain = new Fleet(LivePrefix, null);

        var baseline = await MeasureAsync(context, 0, 0, plain);
        section.Add("N = 0 (local)", "POST → RUNNING", baseline, baseline);
        foreach (var dead in DeadPercents)
            foreach (var n in Sizes)
                section.Add($"N = {n}, {dead} % dead", "POST → RUNNING", await MeasureAsync(context, n, dead, plain), baseline);
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}. Fake peers' RSS: {peers.RssMiB():0.0} MiB.");
    }

    /// <summary>
    /// 3b. Every configuration of 3 twice, back to back (which goes first alternates): plain, and with one cluster key
    /// (made by <c>motey keys generate</c>) given to the agent ([ZEROMQ] cluster_key) and to a second fake-peer process
    /// (<c>--cluster-key</c>) on <see cref="CurvePrefix"/>. Ratio: CURVE's median over plain's.
    /// </summary>
    public static async Task RunCurveAsync(BenchContext context, Report report)
    {
        var section = report.Section("3b. Placement fan-out with CURVE", "CURVE (cluster key)", "plain ZeroMQ (same run)");
        var folder = context.NewFolder("cluster-key");
        var keyFile = Path.Combine(folder, "cluster.key");
        await GenerateClusterKeyAsync(context, keyFile, Path.Combine(folder, "keys.log"));
        section.Intro.Add($"As 3, each configuration measured twice with a fresh agent each, back to back, the order alternating: plain (peers on {LivePrefix}.x) and "
            + $"CURVE (peers on {CurvePrefix}.x, a second fake-peer process whose sockets are CURVE servers of the cluster key; the agent has `[ZEROMQ] cluster_key`, "
            + "the same file, made by `motey keys generate`, mode 600). Dead peers sort before the live ones in both. "
            + $"`request_timeout = {context.PeerTimeoutSeconds}`; one untimed warm-up placement per agent, then {context.Runs} runs.");
        section.Intro.Add("The agent keeps one connection per peer (idle ones close after 60 s): the CURVE handshakes happen in the warm-up placement, "
            + "so the timed runs measure encrypted requests on established connections.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        await using var plainPeers = await StartPeersAsync(context, LivePrefix, null);
        await using var curvePeers = await StartPeersAsync(context, CurvePrefix, keyFile);
        var plain = new Fleet(LivePrefix, null);
        var curve = new Fleet(CurvePrefix, keyFile);

        var configurations = new List<(string Label, int N, int Dead)> { ("N = 0 (local)", 0, 0) };
        foreach (var dead in DeadPercents)
            foreach (var n in Sizes)
                configurations.Add(($"N = {n}, {dead} % dead", n, dead));
        for (var i = 0; i < configurations.Count; i++)
        {
            var (label, n, dead) = configurations[i];
            Series plainRuns, curveRuns;
            if (i % 2 == 0)
            {
                plainRuns = await MeasureAsync(context, n, dead, plain);
                curveRuns = await MeasureAsync(context, n, dead, curve);
            }
            else
            {
                curveRuns = await MeasureAsync(context, n, dead, curve);
                plainRuns = await MeasureAsync(context, n, dead, plain);
            }
            section.Add(label, "POST → RUNNING", curveRuns, plainRuns);
        }
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}. Fake peers' RSS: plain {plainPeers.RssMiB():0.0} MiB, CURVE {curvePeers.RssMiB():0.0} MiB.");
    }

    /// <summary>Where the live fake peers are, and the cluster key they and the agent share (null: plain ZeroMQ).</summary>
    private sealed record Fleet(string Prefix, string? ClusterKeyFile);

    private static async Task<ChildProcess> StartPeersAsync(BenchContext context, string prefix, string? clusterKeyFile)
    {
        var log = Path.Combine(context.NewFolder(clusterKeyFile is null ? "fake-peers" : "fake-peers-curve"), "fake-peers.log");
        List<string> arguments = ["fake-peers", "--prefix", prefix, "--first", $"{FirstHost}", "--count", $"{Sizes.Max()}"];
        if (clusterKeyFile is not null) arguments.AddRange(["--cluster-key", clusterKeyFile]);
        var peers = ChildProcess.Start(context.BenchExecutable, arguments, log);
        try
        {
            await WaitForLineAsync(peers, "ready", TimeSpan.FromSeconds(30));
            return peers;
        }
        catch
        {
            await peers.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>motey keys generate --out PATH</c>, as an operator makes the cluster key.</summary>
    private static async Task GenerateClusterKeyAsync(BenchContext context, string keyFile, string log)
    {
        await using var keys = ChildProcess.Start(context.AgentExecutable, ["keys", "generate", "--out", keyFile], log);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!keys.HasExited && DateTime.UtcNow < deadline) await Task.Delay(20);
        if (!File.Exists(keyFile)) throw new BenchException($"`motey keys generate --out {keyFile}` made no key file:\n{keys.Tail()}");
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(keyFile) is var mode && (mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
            throw new BenchException($"{keyFile} has mode {Convert.ToString((int)mode, 8)}, not 600: the agent would refuse it");
    }

    private static async Task<Series> MeasureAsync(BenchContext context, int n, int deadPercent, Fleet fleet)
    {
        var dead = n * deadPercent / 100;
        var live = n - dead;
        var curve = fleet.ClusterKeyFile is not null;
        context.Log($"Fan-out{(curve ? " (CURVE)" : "")}: N = {n}, {dead} dead (load {BenchContext.LoadAverage()})");
        var settings = new Dictionary<string, string> { ["ZEROMQ:request_timeout"] = $"{context.PeerTimeoutSeconds}" };
        if (fleet.ClusterKeyFile is { } keyFile) settings["ZEROMQ:cluster_key"] = keyFile;
        await using var agent = AgentNode.Start(context, $"fanout-{(curve ? "curve-" : "")}{n}-{deadPercent}", settings);
        await agent.WaitHealthyAsync();
        await agent.WaitPluginsActiveAsync();

        string capability, expectedNode;
        if (n == 0)
        {
            capability = FakePeers.Capability(0);
            expectedNode = agent.Address;
            await agent.PutCapabilitiesAsync([capability], "hardware");
        }
        else
        {
            capability = FakePeers.Capability(live);
            expectedNode = $"{fleet.Prefix}.{FirstHost + live - 1}";
            var addresses = Enumerable.Range(0, live).Select(k => $"{fleet.Prefix}.{FirstHost + k}")
                .Concat(Enumerable.Range(0, dead).Select(k => $"{DeadPrefix}.{FirstHost + k}")).ToList();
            await RegisterAsync(context, agent, addresses);
        }

        var series = new Series("ms");
        for (var run = 0; run <= context.Runs; run++)
        {
            var yaml = $$"""
                service_name: bench-fanout-{{run}}
                images:
                - name: placed-{{run}}
                  engine: simulated
                  parameters: {start_delay_ms: 0}
                  capabilities: [{{capability}}]
                """;
            var clock = Stopwatch.StartNew();
            var id = await agent.PostServiceAsync(yaml);
            using (var service = await agent.WaitServiceStateAsync(id, ServiceStates.Running, TimeSpan.FromSeconds(60), pollMs: 1))
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                var node = service.RootElement.GetProperty("images")[0].GetProperty("node").GetString();
                if (node != expectedNode) throw new BenchException($"the image was placed on {node}, expected {expectedNode}");
                if (run > 0) series.Add(elapsed);  // run 0 warms up
            }
            await agent.DeleteServiceAsync(id, TimeSpan.FromSeconds(60));
        }
        return series;
    }

    /// <summary>
    /// Publishes each address on motey/v1/register at the agent's embedded broker; waits until GET /v1/nodes lists them all.
    /// Announcements are QoS 0, and the agent's REST API answers before its membership has subscribed: a register sent
    /// in that gap reaches nobody (it happened: "the agent lists 1 nodes, expected 51"). So the addresses not listed yet
    /// are published again every 2 s until the deadline; how many were resent is logged.
    /// </summary>
    private static async Task RegisterAsync(BenchContext context, AgentNode agent, IReadOnlyList<string> addresses)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var connected = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(agent.Address, AgentNode.MqttPort)
            .WithClientId($"motey-bench-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .Build());
        if (connected.ResultCode != MqttClientConnectResultCode.Success) throw new BenchException($"the agent's broker refused the connection: {connected.ResultCode}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var missing = addresses.ToList();
        var resent = 0;
        var sent = DateTime.MinValue;
        while (true)
        {
            if (DateTime.UtcNow - sent >= TimeSpan.FromSeconds(2))
            {
                if (sent != DateTime.MinValue) resent += missing.Count;
                foreach (var address in missing)
                    await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("motey/v1/register").WithPayload(Encoding.UTF8.GetBytes(address)).Build());
                sent = DateTime.UtcNow;
            }
            await Task.Delay(20);
            var listed = await agent.NodeAddressesAsync();
            missing = missing.Where(a => !listed.Contains(a)).ToList();
            if (missing.Count == 0) break;
            if (DateTime.UtcNow > deadline) throw new BenchException($"the agent lists {listed.Count} nodes, expected {addresses.Count + 1}, after resending {resent} registrations");
        }
        if (resent > 0) context.Log($"Fan-out: {resent} registrations were sent again before the agent listed every peer");
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
    }

    private static async Task WaitForLineAsync(ChildProcess process, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(File.Exists(process.LogPath) && File.ReadAllText(process.LogPath).Contains(text, StringComparison.Ordinal)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline) throw new BenchException($"fake peers not ready:\n{process.Tail()}");
            await Task.Delay(50);
        }
    }
}
