using System.Diagnostics;
using System.Net;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Bench;

/// <summary>
/// 5. Capability events: N add events with distinct names from a publisher connected to the agent's capability
/// endpoint, until GET /v1/capabilities lists all N (proof none was lost), against the same N capabilities as N
/// sequential PUT /v1/capabilities of one capability each over one keep-alive connection.
/// </summary>
internal static class EventsBench
{
    public static async Task RunAsync(BenchContext context, Report report)
    {
        var n = context.Events;
        var section = report.Section("5. Capability events", "ZeroMQ events", $"{n:N0} × PUT /v1/capabilities");
        section.Intro.Add($"{n:N0} `add_capability#[{{...}}]` events, one capability each with a distinct name, from an XPUB socket connected to `tcp://ADDRESS:5090` "
            + "(sent once the agent's subscription has arrived, i.e. the subscription is live; send HWM raised so the publisher drops nothing). "
            + "Time: first send until GET /v1/capabilities (polled every 50 ms) lists every one; then every name is checked and the run's capabilities are removed with one DELETE. "
            + $"Baseline: the same {n:N0} capabilities as {n:N0} PUTs of one capability each, one after another on one keep-alive connection: the same unit of work (one capability, "
            + "one store change) through the REST path, each acknowledged. One bulk PUT of all of them is shown for reference. "
            + $"One untimed warm-up of each; {context.Runs} runs; one agent throughout.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        await using var agent = AgentNode.Start(context, "events");
        await agent.WaitHealthyAsync();
        await agent.WaitPluginsActiveAsync();
        var before = (await agent.CapabilityNamesAsync()).Count;

        var events = new Series("events/s");
        var eventsTime = new Series("ms");
        var lost = new Series("count");
        var puts = new Series("changes/s");
        var putsTime = new Series("ms");
        var bulk = new Series("ms");
        var rss = new List<double>();
        await SendEventsAsync(agent, "warm", 1000, before);
        await PutOneByOneAsync(agent, "warm", 200, before);
        for (var run = 1; run <= context.Runs; run++)
        {
            context.Log($"Events: run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
            var (elapsed, missing) = await SendEventsAsync(agent, $"ev{run}", n, before);
            eventsTime.Add(elapsed.TotalMilliseconds);
            events.Add(n / elapsed.TotalSeconds);
            lost.Add(missing);
            var putElapsed = await PutOneByOneAsync(agent, $"put{run}", n, before);
            putsTime.Add(putElapsed.TotalMilliseconds);
            puts.Add(n / putElapsed.TotalSeconds);
            bulk.Add((await BulkPutAsync(agent, $"bulk{run}", n, before)).TotalMilliseconds);
            rss.Add(agent.Process.RssMiB());
        }
        section.Add($"{n:N0} capabilities", "rate", events, puts);
        section.Add($"{n:N0} capabilities", "time until all are listed", eventsTime, putsTime);
        section.Add($"{n:N0} capabilities", "lost (sent − listed)", lost, null);
        section.Add($"{n:N0} capabilities, one bulk PUT", "time (reference)", bulk, putsTime);
        section.Notes.Add($"Agent RSS after each run (events, PUTs, bulk PUT, all removed again): {string.Join(", ", rss.Select(r => r.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} MiB.");
        section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
    }

    private static List<string> Names(string tag, int count) => Enumerable.Range(0, count).Select(i => $"bench-{tag}-{i:00000}").ToList();

    private static async Task<(TimeSpan Elapsed, int Missing)> SendEventsAsync(AgentNode agent, string tag, int count, int before)
    {
        var names = Names(tag, count);
        using var publisher = new XPublisherSocket();
        publisher.Options.Linger = TimeSpan.Zero;
        publisher.Options.SendHighWatermark = count * 2;
        publisher.Connect($"tcp://{agent.Address}:{AgentNode.CapabilityEventPort}");
        // The agent's SUB sends its subscription on connection; once it is here, nothing sent is dropped for want of one.
        if (!publisher.TryReceiveFrameBytes(TimeSpan.FromSeconds(10), out var subscription) || subscription.Length == 0 || subscription[0] != 1)
            throw new BenchException("the agent's capability subscriber did not subscribe within 10 s");
        var clock = Stopwatch.StartNew();
        foreach (var name in names)
            publisher.SendFrame($"add_capability#[{{\"capability\": \"{name}\", \"capability_type\": \"software\"}}]");
        // The publisher stays open until every event is listed: closing it could discard what is still queued.
        var missing = await WaitListedAsync(agent, names, before);
        clock.Stop();
        var removed = await agent.DeleteCapabilitiesAsync(names);
        if (removed != HttpStatusCode.Created) throw new BenchException($"DELETE of the event capabilities answered {(int)removed}");
        return (clock.Elapsed, missing);
    }

    /// <summary>Polls every 50 ms until all <paramref name="names"/> are listed, or nothing new came for 15 s; returns how many are missing.</summary>
    private static async Task<int> WaitListedAsync(AgentNode agent, List<string> names, int before)
    {
        var lastCount = -1;
        var lastChange = DateTime.UtcNow;
        while (true)
        {
            var listed = await agent.CapabilityNamesAsync();
            if (listed.Count >= before + names.Count || DateTime.UtcNow - lastChange > TimeSpan.FromSeconds(15))
            {
                var set = listed.ToHashSet(StringComparer.Ordinal);
                return names.Count(n => !set.Contains(n));
            }
            if (listed.Count != lastCount)
            {
                lastCount = listed.Count;
                lastChange = DateTime.UtcNow;
            }
            await Task.Delay(50);
        }
    }

    private static async Task<TimeSpan> PutOneByOneAsync(AgentNode agent, string tag, int count, int before)
    {
        var names = Names(tag, count);
        var clock = Stopwatch.StartNew();
        foreach (var name in names)
        {
            var status = await agent.PutCapabilitiesAsync([name]);
            if (status != HttpStatusCode.Created) throw new BenchException($"PUT of {name} answered {(int)status}");
        }
        clock.Stop();
        await CheckAndRemoveAsync(agent, names, before);
        return clock.Elapsed;
    }

    private static async Task<TimeSpan> BulkPutAsync(AgentNode agent, string tag, int count, int before)
    {
        var names = Names(tag, count);
        var clock = Stopwatch.StartNew();
        var status = await agent.PutCapabilitiesAsync(names);
        clock.Stop();
        if (status != HttpStatusCode.Created) throw new BenchException($"bulk PUT answered {(int)status}");
        await CheckAndRemoveAsync(agent, names, before);
        return clock.Elapsed;
    }

    private static async Task CheckAndRemoveAsync(AgentNode agent, List<string> names, int before)
    {
        var listed = (await agent.CapabilityNamesAsync()).ToHashSet(StringComparer.Ordinal);
        var missing = names.Count(n => !listed.Contains(n));
        if (missing > 0 || listed.Count != before + names.Count) throw new BenchException($"{missing} of {names.Count} PUT capabilities are not listed");
        var removed = await agent.DeleteCapabilitiesAsync(names);
        if (removed != HttpStatusCode.Created) throw new BenchException($"DELETE answered {(int)removed}");
    }
}
