namespace Motey.Bench;

/// <summary>
/// 4. Footprint: time from start to the first healthy answer, the CPU time spent up to it, resident and private memory
/// idle (all plugins loaded) and resident memory after 100k requests; against the floor app (the bare app plus the
/// least use of each library the agent's stack mandates) and the bare app, under the same load.
/// </summary>
internal static class FootprintBench
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(3);

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("4. Footprint", "Motey agent", "bare ASP.NET Core", "floor app");
        section.Intro.Add($"Each run starts a fresh process in a fresh folder (new SQLite database): the agent with `motey run --config FILE` (the apphost), the floor and the bare app likewise; "
            + "start time = process start until the first 204 from GET /v1/heartbeat (agent) or 200 from GET /ping (floor, bare), polled every 10 ms; "
            + "CPU to it = the process's user + system time (/proc/PID/stat) when that answer came, which the machine's load moves less than the wall time. "
            + $"Idle RSS = VmRSS from /proc/PID/status, private = Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, {Idle.TotalSeconds:0} s after every plugin is Active (agent) or after the first 200. "
            + $"Then the agent is seeded as in benchmark 1 and all three get {context.FootprintRequests:N0} requests (wrk, 16 connections, GET /v1/capabilities and GET /v1/service alternating); RSS right after. "
            + $"{context.Runs} runs, the order of the three programs rotating from run to run (the agent first in the first run: the others answer the bodies captured from it). The agent runs on the workstation GC (host/Motey.Host.csproj), the floor and bare apps on the Web SDK's default, the server GC.");
        section.Intro.Add("The floor app (bench/Motey.Bench.Floor) does, before it answers, the least any agent on this stack must: a SQLite file with one table, a collectible McMaster load context "
            + "for the agent's shipped simulated VAL (configured as the agent's) and one instance of it, an MQTTnet broker on loopback with one MQTTnet client connected and subscribed, "
            + "a NetMQ ROUTER bound and polled, Serilog to the console and a file, a small YAML parsed with YamlDotNet, its routes mapped by a Carter module.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        var agent = new Figures();
        var floor = new Figures();
        var bare = new Figures();
        long errors = 0;
        var programs = new (Figures Figures, Func<Figures, Task<long>> Measure)[]
        {
            (agent, f => MeasureAgentAsync(context, f)),
            (floor, f => MeasureBaselineAsync(context, BareApp.StartFloor(context), "floor-load", f)),
            (bare, f => MeasureBaselineAsync(context, BareApp.Start(context), "bare-load", f)),
        };
        for (var run = 1; run <= context.Runs; run++)
        {
            context.Log($"Footprint: run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
            for (var i = 0; i < programs.Length; i++)
            {
                var (figures, measure) = programs[(i + run - 1) % programs.Length];
                errors += await measure(figures);
            }
        }
        section.Add("start", "to first healthy answer", agent.Start, bare.Start, floor.Start);
        section.Add("start", "CPU time to first healthy answer", agent.StartCpu, bare.StartCpu, floor.StartCpu);
        section.Add("idle", "RSS", agent.IdleRss, bare.IdleRss, floor.IdleRss);
        section.Add("idle", "private", agent.IdlePrivate, bare.IdlePrivate, floor.IdlePrivate);
        section.Add($"after {context.FootprintRequests / 1000}k requests", "RSS", agent.LoadedRss, bare.LoadedRss, floor.LoadedRss);
        section.Add($"after {context.FootprintRequests / 1000}k requests", "requests counted by wrk", agent.Served, bare.Served, floor.Served);
        section.Notes.Add($"Errors (non-2xx + socket) during the load: {errors}.");
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
    }

    /// <summary>One run of the agent; returns the errors wrk counted.</summary>
    private static async Task<long> MeasureAgentAsync(BenchContext context, Figures figures)
    {
        await using var agent = AgentNode.Start(context, "footprint");
        figures.Start.Add((await agent.WaitHealthyAsync()).TotalMilliseconds);
        figures.StartCpu.Add(ProcessProbe.CpuMs(agent.Process.Pid));
        var inactive = await agent.WaitPluginsActiveAsync();
        if (inactive.Count > 0) throw new BenchException($"plugins not active: {string.Join(", ", inactive)}");
        await Task.Delay(Idle);
        figures.Idle(agent.Process.Pid);
        await Seed.ApplyAsync(agent);
        if (context.CapabilitiesBody is null) await Seed.CaptureBodiesAsync(agent, context);
        var result = await LoadAsync(context, agent.Folder, agent.BaseUrl);
        figures.Served.Add(result.Requests);
        figures.LoadedRss.Add(agent.Process.RssMiB());
        return result.Errors;
    }

    /// <summary>One run of the floor or the bare app (already started); returns the errors wrk counted.</summary>
    private static async Task<long> MeasureBaselineAsync(BenchContext context, BareApp app, string loadFolder, Figures figures)
    {
        await using (app)
        {
            figures.Start.Add((await app.WaitReadyAsync()).TotalMilliseconds);
            figures.StartCpu.Add(ProcessProbe.CpuMs(app.Process.Pid));
            await Task.Delay(Idle);
            figures.Idle(app.Process.Pid);
            var result = await LoadAsync(context, context.NewFolder(loadFolder), app.BaseUrl);
            figures.Served.Add(result.Requests);
            figures.LoadedRss.Add(app.Process.RssMiB());
            return result.Errors;
        }
    }

    private static async Task<WrkResult> LoadAsync(BenchContext context, string folder, string url)
    {
        var stopFile = Path.Combine(folder, "budget.done");
        File.Delete(stopFile);
        var script = Wrk.WriteBudgetScript(folder, context.FootprintRequests, stopFile);
        return await Wrk.RunAsync(url, 16, 300, script, stopFile);
    }

    /// <summary>What the runs of one program measured.</summary>
    private sealed class Figures
    {
        public Series Start { get; } = new("ms");
        public Series StartCpu { get; } = new("ms");
        public Series IdleRss { get; } = new("MiB");
        public Series IdlePrivate { get; } = new("MiB");
        public Series LoadedRss { get; } = new("MiB");
        public Series Served { get; } = new("requests");

        public void Idle(int pid)
        {
            IdleRss.Add(ChildProcess.ReadRssMiB(pid));
            IdlePrivate.Add(ProcessProbe.PrivateMiB(pid));
        }
    }
}
