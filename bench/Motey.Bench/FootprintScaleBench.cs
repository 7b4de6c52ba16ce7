namespace Motey.Bench;

/// <summary>
/// F. Footprint at scale (issue 16): the agent's resident and private memory and descriptors with N = 1,000 members
/// (<c>--footprint-peers</c>) after placements, and its RSS under capability churn. Per run a fresh agent (embedded
/// broker) and a fresh fake-peer process on it (as in <see cref="ScaleBench"/>, no dead peers). Baseline: the same steps
/// with no peers (N = 0; the placements are local).
/// </summary>
internal static class FootprintScaleBench
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    /// <summary>The agent's own churn: rounds of one PUT of this many new capabilities and one DELETE of them.</summary>
    private const int OwnChurnSize = 200;
    private const int OwnChurnRounds = 10;
    private static readonly TimeSpan PeerChurn = TimeSpan.FromSeconds(20);
    private const int PeerChurnRate = 100;

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var n = context.FootprintPeers;
        var mode = context.LegacyPeers ? "legacy peers" : "presence peers";
        var section = report.Section($"F. Footprint at N = {n:N0} ({mode})", $"Motey agent, N = {n:N0} ({mode})", "Motey agent, N = 0");
        section.Intro.Add($"Per run a fresh agent (embedded broker) and, for N = {n:N0}, a fresh fake-peer process whose members join its broker (subscribed to nodes_request only). "
            + $"Figures {Settle.TotalSeconds:0} s after each step: (1) every member listed; (2) after {context.Placements} placements to the last capable peer and {context.Placements} to a random one "
            + "(baseline: local placements); (3) after capability churn: "
            + $"the peers change their capabilities for {PeerChurn.TotalSeconds:0} s at {PeerChurnRate}/s ({(context.LegacyPeers ? "legacy peers: only their v1 answers change" : "each change republishes the peer's retained presence")}), "
            + $"while the agent's own capabilities churn {OwnChurnRounds} times (PUT of {OwnChurnSize} new ones, DELETE of them); (4) after the same churn once more (flat under churn: it should add little). "
            + "RSS = VmRSS; private = Private_Clean + Private_Dirty of /proc/PID/smaps_rollup; descriptors = entries of /proc/PID/fd.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        var baseline = new Figures();
        var loaded = new Figures();
        for (var run = 1; run <= context.Runs; run++)
        {
            await MeasureAsync(context, 0, run, baseline);
            try
            {
                await MeasureAsync(context, n, run, loaded);
            }
            catch (BenchException e)
            {
                context.Log($"Footprint at scale: run {run}: {e.Message}");
                section.Notes.Add($"N = {n}, run {run} could not be measured: {e.Message.Split('\n')[0]}");
            }
        }
        foreach (var (step, measure, unit) in Figures.Rows)
            section.Add(step, measure, loaded.Get(step, measure, unit), baseline.Get(step, measure, unit));
        foreach (var note in loaded.Notes) section.Notes.Add(note);
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
    }

    private sealed class Figures
    {
        public static readonly (string Step, string Measure, string Unit)[] Rows =
        [
            ("members listed", "RSS", "MiB"), ("members listed", "private", "MiB"), ("members listed", "descriptors", "count"),
            ("after placements", "RSS", "MiB"), ("after placements", "private", "MiB"), ("after placements", "descriptors", "count"),
            ("after placements", "placement failures", "count"),
            ("after capability churn", "RSS", "MiB"), ("after capability churn", "private", "MiB"), ("after capability churn", "descriptors", "count"),
            ("private growth, listed → after churn", "private", "MiB"),
            ("after a second churn", "RSS", "MiB"), ("after a second churn", "private", "MiB"), ("after a second churn", "descriptors", "count"),
            ("private growth over the second churn", "private", "MiB"),
        ];

        private readonly Dictionary<(string, string), Series> _series = [];
        public List<string> Notes { get; } = [];

        public void Add(string step, string measure, string unit, double value)
        {
            if (!_series.TryGetValue((step, measure), out var series)) _series[(step, measure)] = series = new Series(unit);
            series.Add(value);
        }

        public Series Get(string step, string measure, string unit) => _series.GetValueOrDefault((step, measure)) ?? new Series(unit);

        public void Sample(string step, int pid)
        {
            Add(step, "RSS", "MiB", ChildProcess.ReadRssMiB(pid));
            Add(step, "private", "MiB", ProcessProbe.PrivateMiB(pid));
            Add(step, "descriptors", "count", ProcessProbe.Descriptors(pid));
        }
    }

    private static async Task MeasureAsync(BenchContext context, int n, int run, Figures figures)
    {
        context.Log($"Footprint at scale: N = {n}, run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
        await using var agent = AgentNode.Start(context, $"footprint-scale-{n}", ScaleBench.Settings(context));
        await agent.WaitHealthyAsync();
        var inactive = await agent.WaitPluginsActiveAsync();
        if (inactive.Count > 0) throw new BenchException($"plugins not active: {string.Join(", ", inactive)}");
        PeerFleet? peers = null;
        try
        {
            if (n > 0)
            {
                peers = await PeerFleet.StartAsync(context, $"footprint-peers-{n}", n, [$"{agent.Address}:{AgentNode.MqttPort}"], context.LegacyPeers, subscribeAll: false);
                await PeerFleet.RegisterAsync(context, agent, agent.Address, [], peers.Addresses, TimeSpan.FromSeconds(60 + n * 0.05));
            }
            await Task.Delay(Settle);
            var pid = agent.Process.Pid;
            figures.Sample("members listed", pid);
            var privateListed = ProcessProbe.PrivateMiB(pid);

            PlacementRun last, random;
            if (n == 0)
            {
                var capability = FakePeers.Capability(0);
                await agent.PutCapabilitiesAsync([capability], "hardware");
                last = await Placements.SeriesAsync(context, agent, _ => (capability, agent.Address), "fp-local");
                random = await Placements.SeriesAsync(context, agent, _ => (capability, agent.Address), "fp-local");
            }
            else
            {
                var lastCapability = FakePeers.Capability(n);
                var lastNode = PeerPlan.Live(n - 1);
                last = await Placements.SeriesAsync(context, agent, _ => (lastCapability, lastNode), "fp-last");
                var dice = new Random(run);
                random = await Placements.SeriesAsync(context, agent, _ =>
                {
                    var k = dice.Next(n);
                    return (FakePeers.Capability(k + 1), PeerPlan.Live(k));
                }, "fp-random");
            }
            figures.Add("after placements", "placement failures", "count", last.Failures + random.Failures);
            if (last.Errors.Concat(random.Errors).FirstOrDefault() is { } error) figures.Notes.Add($"N = {n}, run {run}: first placement failure: {error}");
            await Task.Delay(Settle);
            figures.Sample("after placements", pid);

            await ChurnAsync(agent, peers, $"bench-churn-{run}");
            figures.Sample("after capability churn", pid);
            var privateChurned = ProcessProbe.PrivateMiB(pid);
            figures.Add("private growth, listed → after churn", "private", "MiB", privateChurned - privateListed);

            // Flat under churn: the same churn again should find the memory the first one left and add little to it.
            await ChurnAsync(agent, peers, $"bench-churn-again-{run}");
            figures.Sample("after a second churn", pid);
            figures.Add("private growth over the second churn", "private", "MiB", ProcessProbe.PrivateMiB(pid) - privateChurned);
            if (peers?.Stats() is { } stats) context.Log($"Footprint at scale: the peers made {stats.Churned:N0} capability changes");
        }
        finally
        {
            if (peers is not null) await peers.DisposeAsync();
        }
    }

    /// <summary>
    /// One round of capability churn: the peers (when any) change theirs for <see cref="PeerChurn"/> while the agent's own
    /// churn <see cref="OwnChurnRounds"/> times (capabilities named from <paramref name="prefix"/>); then <see cref="Settle"/>.
    /// </summary>
    private static async Task ChurnAsync(AgentNode agent, PeerFleet? peers, string prefix)
    {
        peers?.StartChurn();
        var churnEnd = DateTime.UtcNow + PeerChurn;
        for (var round = 0; round < OwnChurnRounds; round++)
        {
            var names = Enumerable.Range(0, OwnChurnSize).Select(i => $"{prefix}-{round}-{i}").ToList();
            await agent.PutCapabilitiesAsync(names);
            await agent.DeleteCapabilitiesAsync(names);
        }
        while (DateTime.UtcNow < churnEnd) await Task.Delay(200);
        peers?.StopChurn();
        await Task.Delay(Settle);
    }
}
