namespace Motey.Bench;

/// <summary>
/// 1. REST: GET /v1/capabilities and GET /v1/service of a seeded agent at 1 and 16 keep-alive connections, against
/// the bare app answering the same bytes. Targets alternate within each run, so drift in the machine's load hits both.
/// </summary>
internal static class RestBench
{
    private static readonly string[] Paths = ["/v1/capabilities", "/v1/service"];
    private static readonly int[] Connections = [1, 16];

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("1. REST throughput and latency", "Motey agent", "bare ASP.NET Core");
        section.Intro.Add($"wrk 4.1 (Debian), 1 thread, keep-alive, {context.WrkSeconds} s per run, `--latency`; {context.Runs} runs; the targets alternate within each run.");
        section.Intro.Add($"The agent is seeded with {Seed.Capabilities} capabilities (plus its 3 plugin capabilities) and {Seed.Services} RUNNING services on the simulated engine; "
            + "the bare app (bench/Motey.Bench.Bare, `WebApplication.CreateBuilder`, minimal API, `Results.Bytes`) answers the bytes captured from it.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        await using var agent = AgentNode.Start(context, "rest");
        await agent.WaitHealthyAsync();
        await agent.WaitPluginsActiveAsync();
        await Seed.ApplyAsync(agent);
        await Seed.CaptureBodiesAsync(agent, context);
        await using var bare = BareApp.Start(context);
        await bare.WaitReadyAsync();
        await CheckSameBytesAsync(agent, bare);
        section.Intro.Add($"Body sizes: GET /v1/capabilities {context.CapabilitiesBody!.Length} B, GET /v1/service {context.ServiceBody!.Length} B (identical from both).");

        var targets = new (string Name, string Url)[] { ("agent", agent.BaseUrl), ("bare", bare.BaseUrl) };
        context.Log("REST: warming up");
        foreach (var (_, url) in targets)
            foreach (var path in Paths)
                await Wrk.RunAsync(url + path, 16, 2);

        var results = new Dictionary<(string Target, string Path, int Connections), List<WrkResult>>();
        for (var run = 1; run <= context.Runs; run++)
        {
            context.Log($"REST: run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
            foreach (var path in Paths)
                foreach (var connections in Connections)
                    foreach (var (name, url) in run % 2 == 1 ? targets : [targets[1], targets[0]])
                    {
                        var result = await Wrk.RunAsync(url + path, connections, context.WrkSeconds);
                        var key = (name, path, connections);
                        if (!results.TryGetValue(key, out var list)) results[key] = list = [];
                        list.Add(result);
                    }
        }

        foreach (var path in Paths)
            foreach (var connections in Connections)
            {
                var agentRuns = results[("agent", path, connections)];
                var bareRuns = results[("bare", path, connections)];
                var label = $"GET {path}, {connections} conn.";
                section.Add(label, "throughput", Collect(agentRuns, r => r.RequestsPerSecond, "req/s"), Collect(bareRuns, r => r.RequestsPerSecond, "req/s"));
                section.Add(label, "p50 latency", Collect(agentRuns, r => r.P50Ms, "ms"), Collect(bareRuns, r => r.P50Ms, "ms"));
                section.Add(label, "p99 latency", Collect(agentRuns, r => r.P99Ms, "ms"), Collect(bareRuns, r => r.P99Ms, "ms"));
                section.Add(label, "errors (non-2xx + socket)", Collect(agentRuns, r => r.Errors, "count"), Collect(bareRuns, r => r.Errors, "count"));
            }

        var agentErrors = results.Where(r => r.Key.Target == "agent").Sum(r => r.Value.Sum(w => w.Errors));
        var bareErrors = results.Where(r => r.Key.Target == "bare").Sum(r => r.Value.Sum(w => w.Errors));
        var agentRequests = results.Where(r => r.Key.Target == "agent").Sum(r => r.Value.Sum(w => w.Requests));
        section.Notes.Add($"Errors over all runs: agent {agentErrors} of {agentRequests:N0} requests, bare app {bareErrors}.");
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}. Agent RSS after this benchmark: {agent.Process.RssMiB():0.0} MiB.");
    }

    private static Series Collect(IEnumerable<WrkResult> runs, Func<WrkResult, double> value, string unit)
    {
        var series = new Series(unit);
        foreach (var run in runs) series.Add(value(run));
        return series;
    }

    private static async Task CheckSameBytesAsync(AgentNode agent, BareApp bare)
    {
        using var client = new HttpClient();
        foreach (var path in Paths)
        {
            var fromAgent = await agent.Http.GetByteArrayAsync(path);
            var fromBare = await client.GetByteArrayAsync(bare.BaseUrl + path);
            if (!fromAgent.AsSpan().SequenceEqual(fromBare))
                throw new BenchException($"GET {path}: the bare app answers {fromBare.Length} bytes, the agent {fromAgent.Length}; they must be the same");
        }
    }
}
