using System.Diagnostics;

namespace Motey.Bench;

/// <summary>
/// S. Placement at scale (issue 16): N = 300 / 1,000 / 2,000 peers (<c>--scale-sizes</c>), 0 % and 20 % of them dead.
/// Per run a fresh agent (embedded broker, as users run it) and a fresh fake-peer process (<see cref="PeerFleet"/>,
/// <see cref="PeerPlan"/> addresses) whose peers join that broker as MQTT members (presence per D1, or <c>--legacy</c>);
/// the dead peers are registered by the driver with v1 <c>register</c> and nothing listens there. One untimed warm-up
/// placement, then <c>--placements</c> (20) to the last capable peer in the agent's order and as many to a random
/// capable peer. Per run: p50/p95/p99 of the successful placements, failures, agent CPU per placement, new peer
/// connections per placement. Baseline: the same placements with the capability on the agent itself (N = 0).
/// </summary>
internal static class ScaleBench
{
    private static readonly int[] DeadPercents = [0, 20];

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var mode = context.LegacyPeers ? "legacy peers" : "presence peers";
        var section = report.Section($"S. Placement at scale ({mode})", $"Motey agent, N peers ({mode})", "capability on the agent (N = 0)");
        section.Intro.Add($"Per run a fresh agent (embedded broker, `[ZEROMQ] request_timeout = {context.PeerTimeoutSeconds}`) and a fresh `motey-bench fake-peers --plan live` process: "
            + $"one MQTTnet client per peer on the agent's broker ({(context.LegacyPeers ? "`--legacy`: register only, every nodes_request answered, as today's main" : "retained presence on motey/v2/nodes/<address>, then register")}; "
            + "subscribed to nodes_request only, so setting up N peers costs O(N) deliveries), one ROUTER socket per peer for capabilities, one each for deploy/status/terminate bound on every peer's address. "
            + "Live peer k is 127.78.(10 + k/155).(100 + k%155) and offers `fanout-(k+1)`; dead peers are 127.76.x.y (registered with v1 register by the driver, nothing listens) and sort before every live one. "
            + $"{(context.WarmUp > 1 ? $"{context.WarmUp} untimed warm-up placements (the first to the last capable peer, the rest to random ones)" : "One untimed warm-up placement to the last capable peer")}, then {context.Placements} to the last capable peer and {context.Placements} to a random capable one (seeded per run). "
            + $"Time: POST until GET /v1/service/{{id}} (polled every {PollMs} ms) says RUNNING on the expected node; a placement that ends in ERROR, elsewhere, or after 60 s is a failure. "
            + "p50/p95/p99 by nearest rank over one run's successful placements (with 20 samples p99 is the slowest); each cell is then the median (min–max) over the runs. "
            + "Agent CPU per placement: the agent's utime+stime over the loop ÷ placements (includes its answers to the polling, as the baseline does). "
            + "New peer connections per placement: TCP connections to the peers' ports 5091–5094 in /proc/net/tcp (any state, TIME_WAIT included) after the loop that were not there before it, ÷ placements (exact while a loop takes under 60 s, see ProcessProbe).");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        var baseline = new PlacementFigures();
        for (var run = 1; run <= context.Runs; run++)
        {
            context.Log($"Scale: N = 0 (local), run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
            await using var agent = AgentNode.Start(context, "scale-0", Settings(context));
            await agent.WaitHealthyAsync();
            await agent.WaitPluginsActiveAsync();
            var capability = FakePeers.Capability(0);
            await agent.PutCapabilitiesAsync([capability], "hardware");
            for (var i = 0; i < context.WarmUp; i++) await Placements.PlaceAsync(agent, capability, agent.Address, "warm-up");
            var last = await Placements.SeriesAsync(context, agent, _ => (capability, agent.Address), "local");
            baseline.Add(last);
        }
        foreach (var (measure, unit, _) in PlacementFigures.Measures)
            section.Add("N = 0 (local)", measure, baseline.Get(measure, unit), baseline.Get(measure, unit));

        foreach (var n in context.ScaleSizes)
        {
            foreach (var deadPercent in DeadPercents)
            {
                var lastFigures = new PlacementFigures();
                var randomFigures = new PlacementFigures();
                for (var run = 1; run <= context.Runs; run++)
                {
                    try
                    {
                        var (l, r) = await MeasureAsync(context, n, deadPercent, run);
                        lastFigures.Add(l);
                        randomFigures.Add(r);
                    }
                    catch (BenchException e)
                    {
                        context.Log($"Scale: N = {n}, {deadPercent} % dead, run {run}: {e.Message}");
                        section.Notes.Add($"N = {n}, {deadPercent} % dead, run {run} could not be measured: {e.Message.Split('\n')[0]}");
                    }
                }
                foreach (var (target, figures) in new[] { ("last capable", lastFigures), ("random capable", randomFigures) })
                    foreach (var (measure, unit, _) in PlacementFigures.Measures)
                        section.Add($"N = {n}, {deadPercent} % dead, {target}", measure, figures.Get(measure, unit), baseline.Get(measure, unit));
            }
        }
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
    }

    public const int PollMs = 2;

    public static Dictionary<string, string> Settings(BenchContext context) =>
        new() { ["ZEROMQ:request_timeout"] = $"{context.PeerTimeoutSeconds}" };

    private static async Task<(PlacementRun Last, PlacementRun Random)> MeasureAsync(BenchContext context, int n, int deadPercent, int run)
    {
        var dead = n * deadPercent / 100;
        var live = n - dead;
        context.Log($"Scale: N = {n}, {dead} dead, run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
        await using var agent = AgentNode.Start(context, $"scale-{n}-{deadPercent}", Settings(context));
        await agent.WaitHealthyAsync();
        await agent.WaitPluginsActiveAsync();
        var clock = Stopwatch.StartNew();
        await using var peers = await PeerFleet.StartAsync(context, $"scale-peers-{n}-{deadPercent}", live, [$"{agent.Address}:{AgentNode.MqttPort}"],
            context.LegacyPeers, subscribeAll: false);
        var deadAddresses = PeerPlan.DeadAddresses(dead);
        await PeerFleet.RegisterAsync(context, agent, agent.Address, deadAddresses, peers.Addresses.Concat(deadAddresses).ToList(), TimeSpan.FromSeconds(60 + n * 0.05));
        context.Log($"Scale: {live} live + {dead} dead peers listed {clock.Elapsed.TotalSeconds:0.0} s after the agent was healthy; fake peers' RSS {peers.Process.RssMiB():0} MiB");

        var lastCapability = FakePeers.Capability(live);
        var lastNode = PeerPlan.Live(live - 1);
        await Placements.PlaceAsync(agent, lastCapability, lastNode, "warm-up");
        var warm = new Random(run * 104729 + n);
        for (var i = 1; i < context.WarmUp; i++)
        {
            var k = warm.Next(live);
            await Placements.PlaceAsync(agent, FakePeers.Capability(k + 1), PeerPlan.Live(k), "warm-up");
        }
        var lastRun = await Placements.SeriesAsync(context, agent, _ => (lastCapability, lastNode), "last");
        var random = new Random(run * 7919 + n);
        var randomRun = await Placements.SeriesAsync(context, agent, _ =>
        {
            var k = random.Next(live);
            return (FakePeers.Capability(k + 1), PeerPlan.Live(k));
        }, "random");
        context.Log($"Scale: N = {n}, {dead} dead: last {lastRun.Describe()}; random {randomRun.Describe()}");
        return (lastRun, randomRun);
    }
}

/// <summary>One agent's timed placements of one kind: their times, failures, CPU and new connections.</summary>
internal sealed record PlacementRun(List<double> Times, int Failures, int Count, double CpuMsPerPlacement, double NewConnectionsPerPlacement, List<string> Errors)
{
    public double Percentile(double p)
    {
        if (Times.Count == 0) return double.NaN;
        var sorted = Times.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public string Describe() =>
        $"p50 {Percentile(50):0.0} / p95 {Percentile(95):0.0} / p99 {Percentile(99):0.0} ms, {Failures} of {Count} failed, {CpuMsPerPlacement:0.0} ms CPU and {NewConnectionsPerPlacement:0.0} new connections per placement"
        + (Errors.Count > 0 ? $"; first failure: {Errors[0]}" : "");
}

/// <summary>The per-run figures of many <see cref="PlacementRun"/>s, as series (one value per run).</summary>
internal sealed class PlacementFigures
{
    public static readonly (string Measure, string Unit, Func<PlacementRun, double> Value)[] Measures =
    [
        ("p50 POST → RUNNING", "ms", r => r.Percentile(50)),
        ("p95 POST → RUNNING", "ms", r => r.Percentile(95)),
        ("p99 POST → RUNNING", "ms", r => r.Percentile(99)),
        ("failures per run", "count", r => r.Failures),
        ("agent CPU per placement", "ms", r => r.CpuMsPerPlacement),
        ("new peer connections per placement", "connections", r => r.NewConnectionsPerPlacement),
    ];

    private readonly List<PlacementRun> _runs = [];

    public void Add(PlacementRun run) => _runs.Add(run);

    public Series Get(string measure, string unit)
    {
        var series = new Series(unit);
        var value = Measures.First(m => m.Measure == measure).Value;
        foreach (var run in _runs)
        {
            var v = value(run);
            if (!double.IsNaN(v)) series.Add(v);
        }
        return series;
    }
}

/// <summary>Placing one image and timing it, as the scale and footprint-scale benchmarks do.</summary>
internal static class Placements
{
    private static int _services;

    /// <summary>POST a one-image blueprint needing <paramref name="capability"/>; wait for RUNNING on <paramref name="expectedNode"/>; DELETE it. Null on success, else why not.</summary>
    public static async Task<(double Ms, string? Error)> PlaceAsync(AgentNode agent, string capability, string expectedNode, string label)
    {
        var n = Interlocked.Increment(ref _services);
        var yaml = $$"""
            service_name: bench-scale-{{label}}-{{n}}
            images:
            - name: placed-{{n}}
              engine: simulated
              parameters: {start_delay_ms: 0}
              capabilities: [{{capability}}]
            """;
        var clock = Stopwatch.StartNew();
        string id;
        try
        {
            id = await agent.PostServiceAsync(yaml);
        }
        catch (BenchException e)
        {
            return (double.NaN, e.Message);
        }
        var error = await WaitRunningAsync(agent, id, expectedNode, TimeSpan.FromSeconds(60));
        var ms = clock.Elapsed.TotalMilliseconds;
        await DeleteAsync(agent, id);
        return (error is null ? ms : double.NaN, error);
    }

    /// <summary>The agent's state message of an image that waits for a node (Deployer.WaitingPrefix): placement found none.</summary>
    private const string Waiting = "waiting for a node that can run it";

    /// <summary>
    /// Polls GET /v1/service/{id} every <see cref="ScaleBench.PollMs"/> until RUNNING (null when on <paramref name="expectedNode"/>);
    /// ERROR, an image left waiting for a node (the agent found no node: since issue 10 such an image waits and is tried
    /// again every wait_retry, it never turns ERROR) or the deadline are failures, named.
    /// </summary>
    private static async Task<string?> WaitRunningAsync(AgentNode agent, string id, string expectedNode, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string text;
            try
            {
                text = await agent.Http.GetStringAsync($"/v1/service/{id}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return $"GET /v1/service/{id} failed: {e.Message}";
            }
            using var service = System.Text.Json.JsonDocument.Parse(text);
            var state = service.RootElement.GetProperty("state").GetInt32();
            var image = service.RootElement.GetProperty("images")[0];
            if (state == ServiceStates.Running)
            {
                var node = image.GetProperty("node").GetString();
                return node == expectedNode ? null : $"placed on {node}, expected {expectedNode}";
            }
            if (state == ServiceStates.Error) return $"ERROR: {service.RootElement.GetProperty("state_message").GetString()}";
            if (text.Contains(Waiting, StringComparison.Ordinal))
            {
                var message = image.TryGetProperty("state_message", out var m) ? m.GetString() : service.RootElement.GetProperty("state_message").GetString();
                return $"no node found: {message}";
            }
            if (DateTime.UtcNow > deadline) return $"not RUNNING after {timeout.TotalSeconds:0} s (state {state})";
            await Task.Delay(ScaleBench.PollMs);
        }
    }

    private static async Task<string?> DeleteAsync(AgentNode agent, string id)
    {
        try
        {
            await agent.DeleteServiceAsync(id, TimeSpan.FromSeconds(60));
            return null;
        }
        catch (Exception e) when (e is BenchException or HttpRequestException or TaskCanceledException)
        {
            return null;  // an ERROR service may not reach TERMINATED; the next placement does not depend on it
        }
    }

    /// <summary><see cref="BenchContext.Placements"/> placements, target chosen per placement.</summary>
    public static async Task<PlacementRun> SeriesAsync(BenchContext context, AgentNode agent, Func<int, (string Capability, string Node)> target, string label)
    {
        var times = new List<double>();
        var errors = new List<string>();
        var cpuBefore = ProcessProbe.CpuMs(agent.Process.Pid);
        var connectionsBefore = ProcessProbe.PeerConnections();
        for (var i = 0; i < context.Placements; i++)
        {
            var (capability, node) = target(i);
            var (ms, error) = await PlaceAsync(agent, capability, node, label);
            if (error is null) times.Add(ms);
            else errors.Add(error.Split('\n')[0]);
        }
        var cpu = ProcessProbe.CpuMs(agent.Process.Pid) - cpuBefore;
        var opened = ProcessProbe.PeerConnections().Count(c => !connectionsBefore.Contains(c));
        return new PlacementRun(times, errors.Count, context.Placements, cpu / context.Placements, (double)opened / context.Placements, errors);
    }
}
