using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// Exactly once under many sequences, not one hand-picked one: a seeded random walk of posts, deletes, kill -9s,
/// restarts, broker outages and pauses over three real agents (process VAL, <c>/bin/sleep</c> images) on one mosquitto,
/// then every dead node comes back and the cluster must settle to one process per image of every live service and none
/// of a deleted one. The judge is the operating system's process table: each image's processes carry the run and the
/// image in their environment. A failure prints the seed and every step that led to it; <c>MOTEY_CHAOS_SEED</c> reruns
/// one seed alone (or a list of seeds).
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class ChaosTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string RunVariable = "MOTEY_CHAOS_RUN";
    private const string ImageVariable = "MOTEY_CHAOS_IMAGE";
    private const string SeedVariable = "MOTEY_CHAOS_SEED";
    private const int Steps = 25;

    /// <summary>
    /// How long the cluster has to settle once every node is back: a fence pass (1 s) and a placement retry (1 s) after
    /// the nodes hear each other again, an orphan's grace (6 s), and the agents' start on a loaded 2-core machine.
    /// </summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    /// <summary>How long the settled cluster must stay settled: several fence passes, so a late duplicate shows.</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(6);

    /// <summary>The fence of ExactlyOnceTests: a node asks every 1 s; an instance nobody answers for lives 6 s.</summary>
    private static readonly Dictionary<string, string> FastFence = new()
    {
        ["ORCHESTRATOR:fence_interval"] = "1",
        ["ORCHESTRATOR:orphan_grace"] = "6",
        ["ORCHESTRATOR:wait_retry"] = "1",
        ["PROCESS:allowed_executables"] = "/bin/sleep, /usr/bin/sleep",
    };

    private readonly TestScope _scope = new("motey-chaos-");
    private readonly string _run = Guid.NewGuid().ToString("N");
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<ChaosService> _services = [];
    private readonly List<string> _log = [];
    private Node[] _nodes = [];
    private MosquittoBroker? _broker;
    private bool _brokerUp;
    private int _seed;

    /// <summary>
    /// The committed seeds, or those <c>MOTEY_CHAOS_SEED</c> names instead: one to rerun a failure alone, a comma-separated
    /// list to hunt with many. Seeds 8 and 11 lost an answered DELETE, seed 10 left an image ERROR for good, and seed 17
    /// was declared settled before membership had, until each was fixed.
    /// </summary>
    public static TheoryData<int> Seeds()
    {
        var named = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.IsNullOrWhiteSpace(named)) return new TheoryData<int> { 1, 2, 3, 4, 5, 8, 10, 11, 17 };
        var seeds = new TheoryData<int>();
        foreach (var part in named.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
                throw new ArgumentException($"{SeedVariable}={named}: '{part}' is not a whole number (name seeds as 7 or 7,8,9)");
            seeds.Add(seed);
        }
        return seeds;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync(() =>
    {
        Faults.KillAll(Faults.ProcessesWithEnvironment(RunVariable, v => v == _run));
        return Task.CompletedTask;
    });

    /// <summary>One agent of the cluster; <see cref="Agent"/> is replaced by each restart.</summary>
    private sealed class Node(string name, AgentProcess agent, bool lab)
    {
        public string Name { get; } = name;
        public AgentProcess Agent { get; set; } = agent;
        public bool Lab { get; } = lab;
        public bool Alive { get; set; } = true;
        public override string ToString() => $"{Name} ({Agent.Address})";
    }

    /// <summary>A service the walk posted: where to ask about it, and its images' names as their processes carry them.</summary>
    private sealed record ChaosService(string Name, string Id, Node PostedTo, IReadOnlyList<string> Images, IReadOnlyList<bool> Lab)
    {
        public bool Deleted { get; set; }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task A_random_walk_of_posts_deletes_kills_restarts_and_broker_outages_settles_to_one_process_per_image(int seed)
    {
        _seed = seed;
        var random = new Random(seed);
        Log($"seed {seed} (rerun alone with {SeedVariable}={seed}), run {_run}");
        await StartClusterAsync();

        for (var step = 1; step <= Steps; step++) await StepAsync(step, random);

        if (!_brokerUp) await BrokerUpAsync("after the walk");
        foreach (var node in _nodes.Where(n => !n.Alive)) await RestartAsync(node, "after the walk");
        Log("every node is alive: waiting for the cluster to settle");

        var settleStart = _clock.Elapsed;
        var end = DateTime.UtcNow + Settle;
        string? problem;
        while ((problem = await ProblemAsync()) is not null && DateTime.UtcNow < end) await Task.Delay(250);
        if (problem is not null) Fail($"the cluster did not settle within {Settle.TotalSeconds:F0} s: {problem}");
        Log($"settled after {(_clock.Elapsed - settleStart).TotalSeconds:F1} s: {Summary()}");

        end = DateTime.UtcNow + Hold;
        while (DateTime.UtcNow < end)
        {
            if (await ProblemAsync() is { } late) Fail($"the settled cluster changed within {Hold.TotalSeconds:F0} s: {late}");
            await Task.Delay(100);
        }
        Log($"held for {Hold.TotalSeconds:F0} s");
    }

    private async Task StartClusterAsync()
    {
        _broker = _scope.Add(new MosquittoBroker(_scope.Root, AgentProcess.NextAddress()));
        await _broker.StartAsync();
        _brokerUp = true;
        _nodes = Enumerable.Range(0, 3).Select(i =>
        {
            var settings = new Dictionary<string, string>(FastFence)
            {
                ["MQTT:broker"] = "external",
                ["MQTT:ip"] = _broker.Ip,
                ["MQTT:port"] = _broker.Port.ToString(CultureInfo.InvariantCulture),
                ["MQTT:reconnect_max"] = "1",
            };
            var agent = _scope.Add(AgentProcess.Start(_scope.Folder($"node{i}"), AgentProcess.NextAddress(), settings));
            return new Node($"node{i}", agent, lab: i > 0);
        }).ToArray();
        foreach (var node in _nodes) await node.Agent.WaitHealthyAsync();
        foreach (var node in _nodes.Where(n => n.Lab))
        {
            using var put = await node.Agent.Client.PutAsync("/v1/capabilities",
                new StringContent("""[{"capability": "lab", "capability_type": "hardware"}]""", Encoding.UTF8, "application/json"));
            Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.NotModified, $"PUT lab on {node}: {put.StatusCode}");
        }
        foreach (var node in _nodes)
        {
            await Faults.WaitUntilAsync(async () => (await node.Agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == 3,
                $"{node} knows all three nodes", agent: node.Agent);
        }
        Log($"cluster: {string.Join(", ", _nodes.Select(n => $"{n}{(n.Lab ? " lab" : "")}"))}, broker {_broker.Ip}:{_broker.Port}");
    }

    /// <summary>One step of the walk, drawn among those possible now (a delete needs a live service on a live node, ...).</summary>
    private async Task StepAsync(int step, Random random)
    {
        var alive = _nodes.Where(n => n.Alive).ToList();
        var dead = _nodes.Where(n => !n.Alive).ToList();
        var deletable = _services.Where(s => !s.Deleted && s.PostedTo.Alive).ToList();
        var choices = new List<(int Weight, Func<Task> Run)>
        {
            (5, () => PostAsync(step, random, alive[random.Next(alive.Count)])),
            (4, () => PauseAsync(step, random.Next(0, 3001))),
        };
        if (deletable.Count > 0) choices.Add((3, () => DeleteAsync(step, deletable[random.Next(deletable.Count)])));
        if (alive.Count > 1) choices.Add((3, () => KillAsync(step, alive[random.Next(alive.Count)])));
        if (dead.Count > 0) choices.Add((3, () => RestartAsync(dead[random.Next(dead.Count)], $"step {step}")));
        // An outage lasts a few steps: coming back is likelier than going down.
        choices.Add(_brokerUp ? (1, () => BrokerDownAsync(step)) : (3, () => BrokerUpAsync($"step {step}")));

        var draw = random.Next(choices.Sum(c => c.Weight));
        foreach (var (weight, run) in choices)
        {
            if (draw < weight)
            {
                await run();
                return;
            }
            draw -= weight;
        }
    }

    private async Task PostAsync(int step, Random random, Node node)
    {
        var name = $"chaos-{_services.Count + 1}";
        var count = random.Next(1, 3);
        var lab = Enumerable.Range(0, count).Select(_ => random.Next(2) == 0).ToList();
        var images = Enumerable.Range(0, count).Select(i => $"{name}/{i}").ToList();
        var yaml = new StringBuilder($"service_name: {name}\nimages:\n");
        for (var i = 0; i < count; i++)
        {
            yaml.Append("- name: sleep\n  engine: process\n");
            if (lab[i]) yaml.Append("  capabilities: [lab]\n");
            yaml.Append(CultureInfo.InvariantCulture,
                $"  parameters: {{args: [900], env: {{{RunVariable}: {_run}, {ImageVariable}: \"{images[i]}\"}}}}\n");
        }
        var service = await Faults.PostAsync(node.Agent, yaml.ToString());
        _services.Add(new ChaosService(name, service.Id, node, images, lab));
        Log($"step {step}: POST {name} ({service.Id}) to {node}: {string.Join(", ", lab.Select((l, i) => $"image {i}{(l ? " [lab]" : "")}"))}");
    }

    private async Task DeleteAsync(int step, ChaosService service)
    {
        using var response = await service.PostedTo.Agent.Client.DeleteAsync($"/v1/service/{service.Id}");
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.NoContent,
            $"step {step}: DELETE {service.Name} ({service.Id}) on {service.PostedTo} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        service.Deleted = true;
        Log($"step {step}: DELETE {service.Name} ({service.Id}) on {service.PostedTo}: {(int)response.StatusCode}");
    }

    private async Task KillAsync(int step, Node node)
    {
        node.Agent.Kill();
        await node.Agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        node.Alive = false;
        Log($"step {step}: kill -9 {node}");
    }

    private async Task RestartAsync(Node node, string when)
    {
        node.Agent = _scope.Add(node.Agent.Restart());
        await node.Agent.WaitHealthyAsync();
        node.Alive = true;
        Log($"{when}: restart {node} (healthy)");
    }

    private async Task BrokerDownAsync(int step)
    {
        await _broker!.KillAsync();
        _brokerUp = false;
        Log($"step {step}: kill the broker");
    }

    private async Task BrokerUpAsync(string when)
    {
        await _broker!.StartAsync();
        _brokerUp = true;
        Log($"{when}: start the broker again");
    }

    private async Task PauseAsync(int step, int milliseconds)
    {
        await Task.Delay(milliseconds);
        Log($"step {step}: pause {milliseconds} ms");
    }

    /// <summary>
    /// What keeps the cluster from being settled now, one line per node that does not list all three and per service
    /// (all of them, so one failure does not hide another), or null: processes read from the process table, states
    /// from the placing nodes.
    /// </summary>
    private async Task<string?> ProblemAsync()
    {
        var table = ProcessTable();
        var problems = new List<string>();
        // Membership first: a node that does not list a peer yet may still count the peer's instances as ended and place
        // them again, so a cluster whose nodes do not all know each other has not settled, whatever the table shows.
        foreach (var node in _nodes)
        {
            if (await NodesKnownAsync(node) is { } listed && listed.Count != _nodes.Length)
                problems.Add($"{node} lists {listed.Count} nodes: {string.Join(", ", listed)}");
        }
        foreach (var service in _services)
        {
            var counts = string.Join(", ", service.Images.Select(i => $"{i}: {Pids(table, i)}"));
            if (service.Deleted)
            {
                if (service.Images.Any(table.ContainsKey))
                    problems.Add($"deleted service {service.Name} ({service.Id}) still runs: {counts}; {service.PostedTo} says: {await StoredAsync(service)}");
                continue;
            }
            Service? state;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                state = await service.PostedTo.Agent.Client.GetFromJsonAsync<Service>($"/v1/service/{service.Id}", timeout.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                problems.Add($"GET {service.Name} ({service.Id}) on {service.PostedTo} failed: {e.Message}");
                continue;
            }
            var images = JsonSerializer.Serialize(state!.Images.Select(i => new { i.Id, i.Node, i.State, i.Generation, i.Restarts, i.StateMessage }));
            if (state.State != ServiceState.Running)
                problems.Add($"{service.Name} ({service.Id}) on {service.PostedTo} is {state.State} ({state.StateMessage}), processes {counts}, images {images}");
            else if (service.Images.Any(i => !table.TryGetValue(i, out var processes) || processes.Count != 1))
                problems.Add($"{service.Name} ({service.Id}) on {service.PostedTo} is RUNNING but not once per image: processes {counts}, images {images}");
        }
        var known = _services.SelectMany(s => s.Images).ToHashSet();
        problems.AddRange(table.Keys.Where(i => !known.Contains(i)).Select(stray => $"processes of an image nobody posted: {stray}: {Pids(table, stray)}"));
        return problems.Count == 0 ? null : string.Join("\n", problems);
    }

    /// <summary>The addresses <paramref name="node"/> lists at GET /v1/nodes (null when it does not answer: the services' checks say so).</summary>
    private static async Task<List<string>?> NodesKnownAsync(Node node)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var nodes = await node.Agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes", timeout.Token);
            return nodes!.Select(n => n.GetProperty("ip").GetString()!).ToList();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>What the placing node holds of a service, for failure messages (404 once a deleted service is removed).</summary>
    private static async Task<string> StoredAsync(ChaosService service)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await service.PostedTo.Agent.Client.GetAsync($"/v1/service/{service.Id}", timeout.Token);
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(timeout.Token)}";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return $"no answer ({e.Message})";
        }
    }

    /// <summary>The run's live processes by the image they carry.</summary>
    private Dictionary<string, List<Faults.OsProcess>> ProcessTable()
    {
        var table = new Dictionary<string, List<Faults.OsProcess>>();
        foreach (var process in Faults.ProcessesWithEnvironment(RunVariable, v => v == _run))
        {
            string image;
            try
            {
                image = ProcFsProbe.Environment(process.Pid).FirstOrDefault(e => e.StartsWith(ImageVariable + "=", StringComparison.Ordinal))?[(ImageVariable.Length + 1)..]
                    ?? "(no image variable)";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;  // gone since it was listed
            }
            if (!table.TryGetValue(image, out var list)) table[image] = list = [];
            list.Add(process);
        }
        return table;
    }

    private static string Pids(Dictionary<string, List<Faults.OsProcess>> table, string image) =>
        table.TryGetValue(image, out var processes) ? $"[{string.Join(" ", processes.Select(p => $"{p.Pid}{p.State}"))}]" : "[]";

    private string Summary() =>
        $"{_services.Count(s => !s.Deleted)} live services ({_services.Where(s => !s.Deleted).Sum(s => s.Images.Count)} images), {_services.Count(s => s.Deleted)} deleted";

    private void Log(string line)
    {
        var stamped = $"[{_clock.Elapsed.TotalSeconds,6:F1} s] {line}";
        _log.Add(stamped);
        output.WriteLine(stamped);
    }

    /// <summary>
    /// Fails with the seed and the steps; first prints every agent's last output and keeps the nodes' folders (logs,
    /// databases) outside the scope, which deletes its own.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(string problem)
    {
        var kept = Path.Combine(Path.GetTempPath(), "motey-chaos-failures", $"seed{_seed}-{_run[..8]}");
        foreach (var node in _nodes)
        {
            output.WriteLine(Faults.Tail(node.Agent, 60));
            var target = Path.Combine(kept, node.Name);
            foreach (var file in Directory.EnumerateFiles(node.Agent.Folder, "*", SearchOption.AllDirectories))
            {
                var copy = Path.Combine(target, Path.GetRelativePath(node.Agent.Folder, file));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                try { File.Copy(file, copy, overwrite: true); }
                catch (IOException) { }
            }
        }
        Assert.Fail($"seed {_seed}: {problem}\nthe nodes' folders are kept in {kept}\nsteps:\n{string.Join("\n", _log)}");
    }
}
