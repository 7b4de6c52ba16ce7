namespace Motey.Bench;

/// <summary>
/// 4. Footprint: time from start to the first healthy answer, resident memory idle (all plugins loaded) and after
/// 100k requests; against the bare app's time to its first 200 and its memory under the same load.
/// </summary>
internal static class FootprintBench
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(3);

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("4. Footprint", "Motey agent", "bare ASP.NET Core");
        section.Intro.Add($"Each run starts a fresh process in a fresh folder (new SQLite database): the agent with `motey run --config FILE` (the apphost), the bare app likewise; "
            + "start time = process start until the first 204 from GET /v1/heartbeat (agent) or 200 from GET /ping (bare), polled every 10 ms. "
            + $"Idle RSS = VmRSS from /proc/PID/status {Idle.TotalSeconds:0} s after every plugin is Active (agent) or after the first 200 (bare). "
            + $"Then the agent is seeded as in benchmark 1 and both get {context.FootprintRequests:N0} requests (wrk, 16 connections, GET /v1/capabilities and GET /v1/service alternating); RSS right after. "
            + $"{context.Runs} runs. Both use the server GC (the Web SDK's default).");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        var start = (Agent: new Series("ms"), Bare: new Series("ms"));
        var idle = (Agent: new Series("MiB"), Bare: new Series("MiB"));
        var loaded = (Agent: new Series("MiB"), Bare: new Series("MiB"));
        var served = (Agent: new Series("requests"), Bare: new Series("requests"));
        long errors = 0;
        for (var run = 1; run <= context.Runs; run++)
        {
            context.Log($"Footprint: run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
            await using (var agent = AgentNode.Start(context, "footprint"))
            {
                start.Agent.Add((await agent.WaitHealthyAsync()).TotalMilliseconds);
                var inactive = await agent.WaitPluginsActiveAsync();
                if (inactive.Count > 0) throw new BenchException($"plugins not active: {string.Join(", ", inactive)}");
                await Task.Delay(Idle);
                idle.Agent.Add(agent.Process.RssMiB());
                await Seed.ApplyAsync(agent);
                if (context.CapabilitiesBody is null) await Seed.CaptureBodiesAsync(agent, context);
                var result = await LoadAsync(context, agent.Folder, agent.BaseUrl);
                served.Agent.Add(result.Requests);
                errors += result.Errors;
                loaded.Agent.Add(agent.Process.RssMiB());
            }
            await using (var bare = BareApp.Start(context))
            {
                start.Bare.Add((await bare.WaitReadyAsync()).TotalMilliseconds);
                await Task.Delay(Idle);
                idle.Bare.Add(bare.Process.RssMiB());
                var result = await LoadAsync(context, context.NewFolder("bare-load"), bare.BaseUrl);
                served.Bare.Add(result.Requests);
                errors += result.Errors;
                loaded.Bare.Add(bare.Process.RssMiB());
            }
        }
        section.Add("start", "to first healthy answer", start.Agent, start.Bare);
        section.Add("idle", "RSS", idle.Agent, idle.Bare);
        section.Add($"after {context.FootprintRequests / 1000}k requests", "RSS", loaded.Agent, loaded.Bare);
        section.Add($"after {context.FootprintRequests / 1000}k requests", "requests counted by wrk", served.Agent, served.Bare);
        section.Notes.Add($"Errors (non-2xx + socket) during the load: {errors}.");
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
    }

    private static async Task<WrkResult> LoadAsync(BenchContext context, string folder, string url)
    {
        var stopFile = Path.Combine(folder, "budget.done");
        File.Delete(stopFile);
        var script = Wrk.WriteBudgetScript(folder, context.FootprintRequests, stopFile);
        return await Wrk.RunAsync(url, 16, 300, script, stopFile);
    }
}
