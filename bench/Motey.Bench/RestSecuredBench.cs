using System.Net;

namespace Motey.Bench;

/// <summary>
/// 1b. What REST security costs: the measurement of <see cref="RestBench"/> (GET /v1/capabilities and GET /v1/service at
/// 1 and 16 keep-alive connections) against four agents seeded alike and measured in the same runs: plain (nothing
/// configured), tokens only, TLS only, tokens + TLS. wrk sends the read token and speaks TLS to the https:// ones.
/// Ratio: the secured agent's median over the plain agent's. Plus one connection per request (wrk sends
/// <c>Connection: close</c>), plain against tokens + TLS: what a client pays that does not keep its connection.
/// </summary>
internal static class RestSecuredBench
{
    private static readonly string[] Paths = ["/v1/capabilities", "/v1/service"];
    private static readonly int[] Connections = [1, 16];
    private const string Secured = "tokens + TLS";
    private const string Plain = "plain";
    private static readonly (string Name, RestSecurity Security)[] Variants =
    [
        (Plain, RestSecurity.None),
        ("tokens", RestSecurity.Tokens),
        ("TLS", RestSecurity.Tls),
        (Secured, RestSecurity.Tokens | RestSecurity.Tls),
    ];
    private const string ClosePath = "/v1/capabilities";

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("1b. REST with tokens and TLS", "secured agent", "plain agent (same run)");
        section.Intro.Add($"Four agents seeded as in 1 ({Seed.Capabilities} capabilities, {Seed.Services} RUNNING simulated services), measured in the same runs: "
            + "plain (nothing configured), `tokens` only (`[WEBSERVER] tokens`, wrk sends `Authorization: Bearer` with the read token), `TLS` only "
            + "(`tls_certificate`/`tls_key`: a self-signed ECDSA P-256 certificate for the agent's address, wrk speaks https), and tokens + TLS.");
        section.Intro.Add($"wrk 4.1, 1 thread, keep-alive, {context.WrkSeconds} s per run, `--latency`; {context.Runs} runs; the order of the four agents rotates from run to run. "
            + $"\"new connection per request\": wrk sends `Connection: close` (GET {ClosePath}, 1 connection), so every request pays a TCP connect, and with TLS a handshake "
            + "(full or resumed, as client and server allow: see docs/benchmarks.md).");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        var agents = new List<(string Name, AgentNode Agent)>();
        try
        {
            foreach (var (name, security) in Variants)
            {
                var agent = AgentNode.Start(context, "rest-" + name.Replace(" + ", "-", StringComparison.Ordinal), security: security);
                agents.Add((name, agent));
            }
            foreach (var (_, agent) in agents)
            {
                await agent.WaitHealthyAsync();
                await agent.WaitPluginsActiveAsync();
                await Seed.ApplyAsync(agent);
            }
            await CheckSecuredAsync(agents);
            section.Intro.Add("Body sizes: " + string.Join("; ", await Task.WhenAll(agents.Select(async a =>
                $"{a.Name} {(await a.Agent.Http.GetByteArrayAsync(Paths[0])).Length} B and {(await a.Agent.Http.GetByteArrayAsync(Paths[1])).Length} B"))) + ".");

            context.Log("REST secured: warming up");
            foreach (var (_, agent) in agents)
                foreach (var path in Paths)
                    await Wrk.RunAsync(agent.BaseUrl + path, 16, 2, headers: agent.ReadHeaders);

            var results = new Dictionary<(string Target, string Case), List<WrkResult>>();
            void Record(string target, string @case, WrkResult result)
            {
                if (!results.TryGetValue((target, @case), out var list)) results[(target, @case)] = list = [];
                list.Add(result);
            }
            for (var run = 1; run <= context.Runs; run++)
            {
                context.Log($"REST secured: run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
                var order = agents.Skip((run - 1) % agents.Count).Concat(agents.Take((run - 1) % agents.Count)).ToList();
                foreach (var path in Paths)
                    foreach (var connections in Connections)
                        foreach (var (name, agent) in order)
                            Record(name, Case(path, connections), await Wrk.RunAsync(agent.BaseUrl + path, connections, context.WrkSeconds, headers: agent.ReadHeaders));
                foreach (var (name, agent) in order.Where(a => a.Name is Plain or Secured))
                {
                    Record(name, CloseCase, await Wrk.RunAsync(agent.BaseUrl + ClosePath, 1, context.WrkSeconds,
                        headers: [.. agent.ReadHeaders, "Connection: close"]));
                }
            }

            foreach (var (name, _) in agents.Where(a => a.Name != Plain).OrderByDescending(a => a.Name == Secured))
                foreach (var path in Paths)
                    foreach (var connections in Connections)
                    {
                        var label = $"{name}: {Case(path, connections)}";
                        var secured = results[(name, Case(path, connections))];
                        var plain = results[(Plain, Case(path, connections))];
                        section.Add(label, "throughput", Collect(secured, r => r.RequestsPerSecond, "req/s"), Collect(plain, r => r.RequestsPerSecond, "req/s"));
                        section.Add(label, "p50 latency", Collect(secured, r => r.P50Ms, "ms"), Collect(plain, r => r.P50Ms, "ms"));
                        if (name != Secured) continue;
                        section.Add(label, "p99 latency", Collect(secured, r => r.P99Ms, "ms"), Collect(plain, r => r.P99Ms, "ms"));
                        section.Add(label, "errors (non-2xx + socket)", Collect(secured, r => r.Errors, "count"), Collect(plain, r => r.Errors, "count"));
                    }
            var closeSecured = results[(Secured, CloseCase)];
            var closePlain = results[(Plain, CloseCase)];
            var closeLabel = $"{Secured}: {CloseCase}";
            section.Add(closeLabel, "throughput", Collect(closeSecured, r => r.RequestsPerSecond, "req/s"), Collect(closePlain, r => r.RequestsPerSecond, "req/s"));
            section.Add(closeLabel, "p50 latency", Collect(closeSecured, r => r.P50Ms, "ms"), Collect(closePlain, r => r.P50Ms, "ms"));
            section.Add(closeLabel, "errors (non-2xx + socket)", Collect(closeSecured, r => r.Errors, "count"), Collect(closePlain, r => r.Errors, "count"));

            foreach (var (name, _) in agents)
            {
                var runs = results.Where(r => r.Key.Target == name).SelectMany(r => r.Value).ToList();
                section.Notes.Add($"{name}: {runs.Sum(r => r.Errors)} errors in {runs.Sum(r => r.Requests):N0} requests.");
            }
            section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}. RSS after this benchmark: "
                + string.Join(", ", agents.Select(a => $"{a.Name} {a.Agent.Process.RssMiB():0.0} MiB")) + ".");
        }
        finally
        {
            foreach (var (_, agent) in agents) await agent.DisposeAsync();
        }
    }

    private const string CloseCase = $"GET {ClosePath}, new connection per request";

    private static string Case(string path, int connections) => $"GET {path}, {connections} conn.";

    /// <summary>
    /// The secured agents must really be secured, or the figures mean nothing: without a token a GET is refused (401),
    /// with the read token it is answered, and the TLS ones answer only over https.
    /// </summary>
    private static async Task CheckSecuredAsync(IEnumerable<(string Name, AgentNode Agent)> agents)
    {
        foreach (var (name, agent) in agents)
        {
            using var client = new HttpClient(agent.Secrets.Handler()) { BaseAddress = new Uri(agent.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
            using (var anonymous = await client.GetAsync(Paths[0]))
            {
                var expected = agent.Secrets.ReadToken is null ? HttpStatusCode.OK : HttpStatusCode.Unauthorized;
                if (anonymous.StatusCode != expected)
                    throw new BenchException($"{name} agent: GET {Paths[0]} without a token answered {(int)anonymous.StatusCode}, expected {(int)expected}");
            }
            if (agent.Secrets.ReadToken is { } token)
            {
                client.DefaultRequestHeaders.Authorization = new("Bearer", token);
                using var withToken = await client.GetAsync(Paths[0]);
                if (withToken.StatusCode != HttpStatusCode.OK)
                    throw new BenchException($"{name} agent: GET {Paths[0]} with the read token answered {(int)withToken.StatusCode}");
            }
            if (agent.Secrets.Tls && await AnswersPlainHttpAsync(agent))
                throw new BenchException($"{name} agent: answers plain http:// on its port, but its configuration asks for TLS");
        }
    }

    private static async Task<bool> AnswersPlainHttpAsync(AgentNode agent)
    {
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await plain.GetAsync($"http://{agent.Address}:{AgentNode.RestPort}/v1/heartbeat");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static Series Collect(IEnumerable<WrkResult> runs, Func<WrkResult, double> value, string unit)
    {
        var series = new Series(unit);
        foreach (var run in runs) series.Add(value(run));
        return series;
    }
}
