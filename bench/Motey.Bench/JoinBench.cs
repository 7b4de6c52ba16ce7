using System.Diagnostics;

namespace Motey.Bench;

/// <summary>
/// J. Join at scale (issue 16): how long a fresh agent takes from its start until GET /v1/nodes lists every member,
/// and what the join costs the brokers, with N = 300 / 1,000 / 2,000 simulated members already there
/// (<c>--join-sizes</c>), on three brokers (<c>--join-brokers</c>):
/// <list type="bullet">
/// <item>embedded: the MQTTnet broker embedded in another Motey agent (the "broker agent", started first, a member too);</item>
/// <item>mosquitto: one mosquitto;</item>
/// <item>bridged: two mosquittos, the second bridged to the first (<c>topic motey/# both 0</c>); the joining agent on
/// the first, peer k on the (k mod 2)-th.</item>
/// </list>
/// Per broker and N: the broker(s) and one fake-peer process (subscribed like real nodes), then <see cref="BenchContext.Runs"/>
/// joins, each by a fresh agent (broker = external) on an address of its own; between joins the peers must be quiet.
/// Baseline: the same join with no peers (N = 0) on the same kind of broker.
/// </summary>
internal static class JoinBench
{
    public static async Task RunAsync(BenchContext context, Report report)
    {
        var mode = context.LegacyPeers ? "legacy peers" : "presence peers";
        var section = report.Section($"J. Join at scale ({mode})", $"fresh agent, N members ({mode})", "fresh agent, N = 0 (same broker)");
        section.Intro.Add("A fresh agent (`[MQTT] broker = external`) joins a broker where N simulated members already are (one `motey-bench fake-peers --plan live` process: one MQTTnet client per member, "
            + $"subscribed to register, remove, nodes_request and motey/v2/nodes/+ as a node is; {(context.LegacyPeers ? "`--legacy`: every nodes_request answered with register, as today's main" : "a nodes_request answered only when its sender has no presence")}). "
            + "Brokers: **embedded** = the MQTTnet broker inside another Motey agent started first (it is a member too: N + 2 listed); **mosquitto** = one mosquitto 2.0; "
            + "**bridged** = two mosquittos, the second bridged to the first (`connection`, `address`, `topic motey/# both 0`), the agent on the first and the peers alternating between them. "
            + $"Join time: from the agent's process start until GET /v1/nodes (polled every 100 ms) lists every member and itself; deadline {context.JoinTimeoutSeconds} s, after which the run counts as failed with what it listed. "
            + $"{context.Runs} joins per configuration, each by a fresh agent on the same broker and peers; the peers must have been quiet for 1 s before each.");
        section.Intro.Add("Deliveries (what the broker(s) sent during a join, counted from the agent's start until the peers have been quiet for 1 s after it listed everyone): "
            + "**mosquitto**: Δ `$SYS/broker/publish/messages/sent` summed over the brokers (`sys_interval 1`; includes a bridge's forwarding and the driver's counting client); "
            + "**all brokers**: counted at the receivers = what the fake peers received (exact, their own counters) + each agent's share derived from a counting client subscribed to `motey/#` "
            + "(every v1 message is delivered to every agent: agents × messages; the joiner also gets one retained presence per member that has one). "
            + "Not delivered to peers = messages × N − what the peers received (a broker's drops, or a message that missed a peer), messages being at least the peers' answers + the joiner's 2.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        foreach (var kind in context.JoinBrokers)
        {
            if (kind is not ("embedded" or "mosquitto" or "bridged")) throw new BenchException($"--join-brokers {kind}: embedded, mosquitto or bridged");
            var baseline = await MeasureAsync(context, kind, 0);
            section.Add($"{kind}, N = 0", "join time", baseline.Time, baseline.Time);
            section.Add($"{kind}, N = 0", "joining agent's CPU until listed", baseline.JoinerCpu, baseline.JoinerCpu);
            foreach (var n in context.JoinSizes)
            {
                JoinFigures figures;
                try
                {
                    figures = await MeasureAsync(context, kind, n);
                }
                catch (BenchException e)
                {
                    context.Log($"Join: {kind}, N = {n}: {e.Message}");
                    section.Notes.Add($"{kind}, N = {n} could not be measured: {e.Message.Split('\n')[0]}");
                    continue;
                }
                var label = $"{kind}, N = {n}";
                section.Add(label, "join time", figures.Time, baseline.Time);
                section.Add(label, "joins that did not converge", figures.Failures);
                if (figures.Listed.Values.Count > 0) section.Add(label, "members listed at the deadline (failed joins)", figures.Listed);
                section.Add(label, "deliveries, counted at the receivers", figures.Delivered, baseline.Delivered);
                if (kind != "embedded") section.Add(label, "deliveries, mosquitto $SYS", figures.SysSent, baseline.SysSent);
                section.Add(label, "register answers by the peers", figures.Answers);
                section.Add(label, "not delivered to peers", figures.Undelivered);
                if (kind != "embedded") section.Add(label, "dropped, mosquitto $SYS", figures.SysDropped);
                section.Add(label, "joining agent's CPU until listed", figures.JoinerCpu, baseline.JoinerCpu);
                section.Add(label, kind == "embedded" ? "broker agent's CPU during the join" : "mosquitto CPU during the join", figures.BrokerCpu, baseline.BrokerCpu);
                foreach (var note in figures.Notes) section.Notes.Add($"{label}: {note}");
            }
        }
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
    }

    private sealed class JoinFigures
    {
        public Series Time { get; } = new("ms");
        public Series Failures { get; } = new("count");
        public Series Listed { get; } = new("count");
        public Series Delivered { get; } = new("count");
        public Series SysSent { get; } = new("count");
        public Series SysDropped { get; } = new("count");
        public Series Answers { get; } = new("count");
        public Series Undelivered { get; } = new("count");
        public Series JoinerCpu { get; } = new("ms");
        public Series BrokerCpu { get; } = new("ms");
        public List<string> Notes { get; } = [];
    }

    /// <summary>The broker(s) of one configuration: where agents and peers connect, which are mosquittos, whose CPU is the broker's.</summary>
    private sealed class Brokers : IAsyncDisposable
    {
        public List<IAsyncDisposable> Owned { get; } = [];
        public List<string> Endpoints { get; } = [];
        public List<string> MosquittoEndpoints { get; } = [];
        public List<int> Pids { get; } = [];
        public string? BrokerAgentAddress { get; set; }

        public async ValueTask DisposeAsync()
        {
            for (var i = Owned.Count - 1; i >= 0; i--) await Owned[i].DisposeAsync();
        }
    }

    private static async Task<Brokers> StartBrokersAsync(BenchContext context, string kind, int n)
    {
        var brokers = new Brokers();
        try
        {
            switch (kind)
            {
                case "embedded":
                    var host = AgentNode.Start(context, $"join-broker-{n}", ScaleBench.Settings(context));
                    brokers.Owned.Add(host);
                    await host.WaitHealthyAsync();
                    await host.WaitPluginsActiveAsync();
                    brokers.Endpoints.Add($"{host.Address}:{AgentNode.MqttPort}");
                    brokers.Pids.Add(host.Process.Pid);
                    brokers.BrokerAgentAddress = host.Address;
                    break;
                case "mosquitto":
                    var one = await Mosquitto.StartAsync(context, $"join-mosquitto-{n}");
                    brokers.Owned.Add(one);
                    brokers.Endpoints.Add(one.Endpoint);
                    brokers.Pids.Add(one.Process.Pid);
                    break;
                default:
                    var first = await Mosquitto.StartAsync(context, $"join-mosquitto-a-{n}");
                    brokers.Owned.Add(first);
                    var second = await Mosquitto.StartAsync(context, $"join-mosquitto-b-{n}", bridgeTo: first);
                    brokers.Owned.Add(second);
                    brokers.Endpoints.AddRange([first.Endpoint, second.Endpoint]);
                    brokers.Pids.AddRange([first.Process.Pid, second.Process.Pid]);
                    await WaitBridgeAsync(second.Endpoint, first.Endpoint);
                    break;
            }
            if (kind != "embedded") brokers.MosquittoEndpoints.AddRange(brokers.Endpoints);
            return brokers;
        }
        catch
        {
            await brokers.DisposeAsync();
            throw;
        }
    }

    /// <summary>Until a message published on <paramref name="from"/> arrives on <paramref name="to"/> (the bridge is up).</summary>
    private static async Task WaitBridgeAsync(string from, string to)
    {
        await using var counter = await DeliveryCounter.StartAsync([to], []);
        using var client = new MQTTnet.MqttClientFactory().CreateMqttClient();
        var (host, port) = from.Split(':') is [var h, var p] ? (h, int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)) : (from, 1883);
        await client.ConnectAsync(new MQTTnet.MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId($"motey-bench-bridge-probe-{Guid.NewGuid():N}").Build());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (counter.Take().Remove == 0)
        {
            if (DateTime.UtcNow > deadline) throw new BenchException($"the bridge from {from} to {to} carried nothing within 20 s");
            // a remove of an address no one knows: every receiver ignores it
            await client.PublishAsync(new MQTTnet.MqttApplicationMessageBuilder().WithTopic(MqttPeers.Remove).WithPayload("127.79.255.254").Build());
            await Task.Delay(200);
        }
        await client.DisconnectAsync(new MQTTnet.MqttClientDisconnectOptionsBuilder().Build());
    }

    private static double CpuMs(IEnumerable<int> pids) => pids.Sum(ProcessProbe.CpuMs);

    private static async Task<JoinFigures> MeasureAsync(BenchContext context, string kind, int n)
    {
        var figures = new JoinFigures();
        context.Log($"Join: {kind}, N = {n}: setting up (load {BenchContext.LoadAverage()})");
        var setup = Stopwatch.StartNew();
        var brokers = await StartBrokersAsync(context, kind, n);
        PeerFleet? peers = null;
        try
        {
            if (n > 0)
            {
                peers = await PeerFleet.StartAsync(context, $"join-peers-{kind}-{n}", n, brokers.Endpoints, context.LegacyPeers, subscribeAll: true, zeroMq: false);
                await peers.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            }
            await using var counter = await DeliveryCounter.StartAsync(brokers.Endpoints, brokers.MosquittoEndpoints);
            context.Log($"Join: {kind}, N = {n}: set up in {setup.Elapsed.TotalSeconds:0.0} s{(peers is null ? "" : $", fake peers' RSS {peers.Process.RssMiB():0} MiB")}");
            var members = (peers?.Addresses ?? []).Concat(brokers.BrokerAgentAddress is { } b ? [b] : Array.Empty<string>()).ToList();
            var agents = brokers.BrokerAgentAddress is null ? 1 : 2;
            for (var run = 1; run <= context.Runs; run++)
            {
                if (peers is not null) await peers.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(120));
                await Task.Delay(1500);  // a fresh $SYS value (sys_interval 1)
                var before = counter.Take();
                var peersBefore = peers?.Stats();
                var brokerCpuBefore = CpuMs(brokers.Pids);
                context.Log($"Join: {kind}, N = {n}, run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
                var settings = ScaleBench.Settings(context);
                var (host, port) = brokers.Endpoints[0].Split(':') is [var h, var p] ? (h, p) : throw new BenchException("no broker");
                settings["MQTT:broker"] = "external";
                settings["MQTT:ip"] = host;
                settings["MQTT:port"] = port;
                await using (var joiner = AgentNode.Start(context, $"join-{kind}-{n}-{run}", settings))
                {
                    var expected = members.Append(joiner.Address).ToList();
                    var (time, listed) = await WaitListedAsync(joiner, expected, TimeSpan.FromSeconds(context.JoinTimeoutSeconds));
                    var joinerCpu = ProcessProbe.CpuMs(joiner.Process.Pid);
                    if (time is { } t)
                    {
                        figures.Time.Add(t);
                        figures.JoinerCpu.Add(joinerCpu);
                        figures.Failures.Add(0);
                    }
                    else
                    {
                        figures.Failures.Add(1);
                        figures.Listed.Add(listed);
                        figures.Notes.Add($"run {run}: the joining agent listed {listed} of {expected.Count} after {context.JoinTimeoutSeconds} s");
                    }
                    var peersAfter = peers is null ? null : await peers.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(120));
                    await Task.Delay(2500);  // the last $SYS values
                    var delta = counter.Take() - before;
                    figures.BrokerCpu.Add(CpuMs(brokers.Pids) - brokerCpuBefore);
                    var peersReceived = peersAfter is null || peersBefore is null ? 0 : peersAfter.Received - peersBefore.Received;
                    var peersV1 = peersAfter is null || peersBefore is null ? 0
                        : (peersAfter.ReceivedRegister - peersBefore.ReceivedRegister) + (peersAfter.ReceivedRequest - peersBefore.ReceivedRequest) + (peersAfter.ReceivedRemove - peersBefore.ReceivedRemove);
                    var peersPresence = peersAfter is null || peersBefore is null ? 0 : peersAfter.ReceivedPresence - peersBefore.ReceivedPresence;
                    // the agents: every v1 message; with presence (the new agent) also every live presence and, for the joiner, the retained ones
                    var agentsShare = agents * delta.V1 + (context.LegacyPeers ? 0 : agents * delta.Presence + (peersBefore?.Presences ?? 0));
                    figures.Delivered.Add(peersReceived + agentsShare);
                    var answers = peersAfter is null || peersBefore is null ? 0 : peersAfter.Answered - peersBefore.Answered;
                    // the counting client is a client of the same broker and may miss messages too (the embedded one
                    // dropped them in the before-run): at least the peers' answers and the joiner's register and nodes_request were published
                    var v1Messages = Math.Max(delta.V1, answers + 2);
                    figures.Undelivered.Add(Math.Max(0, v1Messages * n - peersV1) + (context.LegacyPeers ? 0 : Math.Max(0, delta.Presence * n - peersPresence)));
                    figures.Answers.Add(answers);
                    var lostPeers = peersAfter is null || peersBefore is null ? 0 : peersAfter.Disconnected - peersBefore.Disconnected;
                    if (lostPeers > 0) figures.Notes.Add($"run {run}: {lostPeers} fake peers lost their broker connection during the join (they rejoin within seconds; the harness could not keep up)");
                    if (brokers.MosquittoEndpoints.Count > 0)
                    {
                        figures.SysSent.Add(delta.SysSent);
                        figures.SysDropped.Add(delta.SysDropped);
                    }
                    if (counter.Lost > 0) figures.Notes.Add($"run {run}: {counter.Lost} counting connection(s) dropped by then: the message counts (and so the derived deliveries) are short");
                    context.Log($"Join: {kind}, N = {n}, run {run}: {(time is { } tt ? $"{tt:0} ms" : $"not converged ({listed} listed)")}, "
                        + $"messages v1 {delta.V1:N0} (register {delta.Register:N0}, nodes_request {delta.Request:N0}), presence {delta.Presence:N0}; peers received {peersReceived:N0}; "
                        + $"$SYS sent {delta.SysSent:N0}, dropped {delta.SysDropped:N0}; peers disconnected so far {peersAfter?.Disconnected ?? 0}, rejoined {peersAfter?.Reconnected ?? 0}; joiner CPU {joinerCpu:0} ms, broker CPU {figures.BrokerCpu.Values[^1]:0} ms");
                }
            }
        }
        finally
        {
            // the brokers go first (declared first, disposed last otherwise): peers that lose their broker just stop, no wills to deliver
            await brokers.DisposeAsync();
            if (peers is not null) await peers.DisposeAsync();
        }
        return figures;
    }

    /// <summary>Polls GET /v1/nodes every 100 ms until it lists every one of <paramref name="expected"/>: the time since the process started, or null and how many it listed at the deadline.</summary>
    private static async Task<(double? Ms, int Listed)> WaitListedAsync(AgentNode agent, IReadOnlyList<string> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var listed = 0;
        while (DateTime.UtcNow < deadline)
        {
            if (agent.Process.HasExited) throw new BenchException($"the joining agent on {agent.Address} exited:\n{agent.Process.Tail()}");
            try
            {
                var nodes = await agent.NodeAddressesAsync();
                listed = nodes.Count;
                if (expected.All(nodes.Contains)) return (agent.Process.SinceStart.Elapsed.TotalMilliseconds, listed);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not up yet
            }
            await Task.Delay(100);
        }
        return (null, listed);
    }
}
