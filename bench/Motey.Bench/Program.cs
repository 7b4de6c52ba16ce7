using Motey.Bench;

// motey-bench run --repo PATH --out DIR [--runs 5] [--only rest,footprint,deploy,fanout,events] [--wrk-seconds 3]
//                 (also rest-secured, fanout-curve, scale, join, footprint-scale: only when named in --only)
//                 [--legacy] (the scale sections' peers behave as today's main)  [--placements 20] [--warm-up 1]
//                 [--scale-sizes 300,1000,2000] [--join-sizes 300,1000,2000] [--join-brokers embedded,mosquitto,bridged]
//                 [--join-timeout 90] [--footprint-peers 1000]
//                 [--peer-timeout 2] [--events 10000] [--requests 100000] [--wait-quiet 60]
//                 [--agent-log-level Warning] [--keep]
// motey-bench fake-peers --prefix 127.78.1 --first 100 --count 100 [--cluster-key PATH]
// motey-bench fake-peers --plan live --count 2000 --mqtt HOST:PORT[,HOST:PORT] [--legacy] [--subscribe all|requests]
//                        [--stats FILE] [--churn-file FILE --churn-rate R]   (see FakePeers, MqttPeers, PeerPlan)
// bench/run.sh builds everything and runs the first form; docs/benchmarks.md explains the figures.

if (args.Length > 0 && args[0] == "fake-peers")
{
    return FakePeers.Run(PeerSettings.From(Options.Parse(args[1..])));
}
if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine("usage: motey-bench run --repo PATH --out DIR [--runs N] [--only LIST] | motey-bench fake-peers --prefix P --first F --count C");
    return 2;
}

var options = Options.Parse(args[1..]);
var repository = Path.GetFullPath(options.Get("repo", "."));
var work = Path.Combine(Path.GetTempPath(), $"motey-bench-{Environment.ProcessId}");
var context = new BenchContext
{
    AgentExecutable = Path.Combine(repository, "host", "bin", "Release", "net10.0", "motey"),
    BareExecutable = Path.Combine(repository, "bench", "Motey.Bench.Bare", "bin", "Release", "net10.0", "motey-bench-bare"),
    FloorExecutable = Path.Combine(repository, "bench", "Motey.Bench.Floor", "bin", "Release", "net10.0", "motey-bench-floor"),
    FloorPlugin = Path.Combine(repository, "host", "bin", "Release", "net10.0", "plugins", "Motey.Val.Simulated", "Motey.Val.Simulated.dll"),
    BenchExecutable = Environment.ProcessPath!,
    WorkFolder = work,
    ResultsFolder = Path.GetFullPath(options.Get("out", Path.Combine(repository, "bench", "results", "latest"))),
    Runs = options.GetInt("runs", 5),
    WrkSeconds = options.GetInt("wrk-seconds", 3),
    PeerTimeoutSeconds = options.GetInt("peer-timeout", 2),
    Events = options.GetInt("events", 10_000),
    FootprintRequests = options.GetInt("requests", 100_000),
    AgentLogLevel = options.Has("agent-log-level") ? options.Get("agent-log-level", "Information") : null,
    LegacyPeers = options.Has("legacy"),
    Placements = options.GetInt("placements", 20),
    WarmUp = options.GetInt("warm-up", 1),
    ScaleSizes = Sizes(options.Get("scale-sizes", "300,1000,2000")),
    JoinSizes = Sizes(options.Get("join-sizes", "300,1000,2000")),
    JoinBrokers = options.Get("join-brokers", "embedded,mosquitto,bridged").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    JoinTimeoutSeconds = options.GetInt("join-timeout", 90),
    FootprintPeers = options.GetInt("footprint-peers", 1000),
};
// The security variants are not in the default set: they double the REST and fan-out time and compare within themselves.
var only = options.Get("only", "rest,footprint,deploy,fanout,events").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var benchmarks = new Dictionary<string, Func<BenchContext, Report, Task>>
{
    ["rest"] = RestBench.RunAsync,
    ["footprint"] = FootprintBench.RunAsync,
    ["deploy"] = DeployBench.RunAsync,
    ["fanout"] = FanoutBench.RunAsync,
    ["events"] = EventsBench.RunAsync,
    ["rest-secured"] = RestSecuredBench.RunAsync,
    ["fanout-curve"] = FanoutBench.RunCurveAsync,
    ["scale"] = ScaleBench.RunAsync,
    ["join"] = JoinBench.RunAsync,
    ["footprint-scale"] = FootprintScaleBench.RunAsync,
};
if (only.FirstOrDefault(name => !benchmarks.ContainsKey(name)) is { } unknown)
{
    Console.Error.WriteLine($"unknown benchmark '{unknown}'; known: {string.Join(", ", benchmarks.Keys)}");
    return 2;
}
Directory.CreateDirectory(work);

var waitQuiet = options.GetInt("wait-quiet", 0);
var quietDeadline = DateTime.UtcNow.AddSeconds(waitQuiet);
while (BenchContext.Load1() > 1.5 && DateTime.UtcNow < quietDeadline)
{
    context.Log($"waiting for the machine to quieten (load {BenchContext.LoadAverage()})");
    await Task.Delay(TimeSpan.FromSeconds(5));
}

var report = new Report();
report.Header.AddRange(await Machine.DescribeAsync(context, repository, "bench/run.sh " + string.Join(' ', args[1..])));
var failed = 0;
var clock = System.Diagnostics.Stopwatch.StartNew();
foreach (var name in only)
{
    var benchmark = benchmarks[name];
    context.Log($"== {name}");
    var sectionsBefore = report.Sections.Count;
    var cpuBefore = CpuSnapshot.Take();
    try
    {
        await benchmark(context, report);
        report.Sections[^1].Notes.Add("CPU during this benchmark: " + CpuSnapshot.Describe(cpuBefore, CpuSnapshot.Take()) + ".");
    }
    catch (Exception e) when (e is BenchException or HttpRequestException or IOException or TimeoutException or InvalidOperationException
                                  or System.Text.Json.JsonException or KeyNotFoundException or Docker.DotNet.DockerApiException or NetMQ.NetMQException)
    {
        failed++;
        context.Log($"{name} FAILED: {e.Message}");
        var section = report.Sections.Count > sectionsBefore ? report.Sections[^1] : report.Section(name, "agent", "baseline");
        section.Notes.Add($"FAILED: {e.GetType().Name}: {e.Message}");
    }
    report.Save(context.ResultsFolder);
}
report.Header.Add($"- Total run time of the benchmarks: {clock.Elapsed.TotalMinutes:0.0} min; load average at the end: {BenchContext.LoadAverage()}");
report.Save(context.ResultsFolder);
if (!options.Has("keep")) Directory.Delete(work, recursive: true);
context.Log($"results: {Path.Combine(context.ResultsFolder, "results.md")}");
return failed == 0 ? 0 : 1;

static int[] Sizes(string text) =>
    text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
