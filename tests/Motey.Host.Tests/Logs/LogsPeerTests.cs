using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Logs;

/// <summary>
/// The motey-logs/1 sessions on a real capabilities replier in front of a real local node with the compiled Simulated VAL
/// (a line every 20 ms), asked frame by frame and through the ZeroMQ node client.
/// </summary>
public sealed class LogsPeerTests : IAsyncLifetime
{
    private PeerNode _node = null!;
    private PeerRequester _requester = null!;

    public async Task InitializeAsync()
    {
        _node = await PeerNode.CreateAsync(settings: new Dictionary<string, string> { ["SIMULATED:log_interval_ms"] = "20" });
        _requester = new PeerRequester();
    }

    public async Task DisposeAsync()
    {
        _requester.Dispose();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task Open_next_and_close_hand_over_the_lines_of_an_instance()
    {
        await _node.StartRepliersAsync();
        var instance = await DeployAsync("s1", 0);
        await Wait.UntilAsync(async () => (await ReadAllAsync(Target("s1", 0, instance))).Count >= 4, "the instance has printed 4 lines");

        var opened = Reply(await AskAsync($$"""{"op": "open", "service_id": "s1", "image_index": 0, "instance_id": "{{instance}}", "engine": "simulated", "follow": true, "tail": 1}"""));
        var session = opened.GetProperty("session").GetString()!;
        var lines = new List<string>();
        await Wait.UntilAsync(async () =>
        {
            var next = Reply(await AskAsync($$"""{"op": "next", "session": "{{session}}"}"""));
            lines.AddRange(next.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!));
            return lines.Count >= 3;
        }, "next hands over new lines");
        Assert.All(lines, l => Assert.Matches($"^simulated instance {instance} of web: line [0-9]+$", l));

        var closed = Reply(await AskAsync($$"""{"op": "close", "session": "{{session}}"}"""));
        Assert.True(closed.GetProperty("end").GetBoolean());
        var gone = Reply(await AskAsync($$"""{"op": "next", "session": "{{session}}"}"""));
        Assert.Equal("failed", gone.GetProperty("code").GetString());
        Assert.Contains($"has no log session {session}", gone.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_node_client_reads_a_remote_instance_and_closes_its_session_when_the_reader_stops()
    {
        await _node.StartRepliersAsync();
        var instance = await DeployAsync("s1", 0);
        var client = new ZeroMqNodeClient(_node.Address, _node.Settings.ZeroMq, _requester);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<LogLine>();
        await foreach (var line in (await client.ReadLogsAsync(Target("s1", 0, instance), new LogRequest(null, true), stop.Token)).WithCancellation(stop.Token))
        {
            seen.Add(line);
            if (line.Text.EndsWith(": line 5", StringComparison.Ordinal)) break;
        }

        Assert.Equal($"simulated instance {instance} of web starting", seen[0].Text);
        await Wait.UntilAsync(() => _node.Repliers!.LogSessions.Count == 0, "the reader's session is closed on the node");
    }

    [Fact]
    public async Task An_instance_of_another_service_is_not_found()
    {
        await _node.StartRepliersAsync();
        var instance = await DeployAsync("s1", 0);
        var metrics = new CountedPeerRequests();
        var client = new ZeroMqNodeClient(_node.Address, _node.Settings.ZeroMq, _requester, metrics: metrics);

        var e = await Assert.ThrowsAsync<NoInstanceException>(() => client.ReadLogsAsync(Target("s2", 0, instance), new LogRequest(), default));

        Assert.Equal($"instance {instance} on node {_node.Address} is not image 0 of service s2", e.Message);
        Assert.Equal(0, _node.Repliers!.LogSessions.Count);
        // The node's {"error": ..., "code": ...} answer is a failed request in the metrics, not a success.
        Assert.Equal([("logs", Motey.Host.Core.Metrics.PeerOutcome.Error)], metrics.Requests);
    }

    [Fact]
    public async Task A_session_nobody_asks_for_is_closed_after_the_idle_time()
    {
        using var sessions = new LogSessions(_node.Local, NullLogger.Instance, TimeSpan.FromMilliseconds(300));
        var instance = await DeployAsync("s1", 0);
        var opened = Reply(await sessions.AnswerAsync(Open("s1", 0, instance, follow: true), default));
        var session = opened.GetProperty("session").GetString()!;
        Assert.Equal(1, sessions.Count);

        await Wait.UntilAsync(() => sessions.Count == 0, "the idle session is closed");

        var next = Reply(await sessions.AnswerAsync(LogsMessage.WriteNext(session), default));
        Assert.Contains("was not asked for 0.3 s", next.GetProperty("error").GetString());
    }

    [Fact]
    public async Task At_most_64_sessions_are_open_then_the_node_is_busy()
    {
        using var sessions = new LogSessions(_node.Local, NullLogger.Instance);
        var instance = await DeployAsync("s1", 0);
        var ids = new List<string>();
        for (var i = 0; i < LogSessions.MaxSessions; i++)
            ids.Add(Reply(await sessions.AnswerAsync(Open("s1", 0, instance, follow: true), default)).GetProperty("session").GetString()!);

        var busy = Reply(await sessions.AnswerAsync(Open("s1", 0, instance, follow: true), default));
        Assert.Equal("busy", busy.GetProperty("code").GetString());
        Assert.StartsWith($"busy: node {_node.Address} has 64 log sessions open", busy.GetProperty("error").GetString());

        await sessions.AnswerAsync(LogsMessage.WriteClose(ids[0]), default);
        Assert.True(Reply(await sessions.AnswerAsync(Open("s1", 0, instance, follow: true), default)).TryGetProperty("session", out _));
    }

    [Fact]
    public async Task An_engine_without_logs_answers_not_supported_and_a_bad_request_says_what_is_wrong()
    {
        await _node.StartRepliersAsync(new NodeWithoutLogs(_node.Local));
        var client = new ZeroMqNodeClient(_node.Address, _node.Settings.ZeroMq, _requester);

        var e = await Assert.ThrowsAsync<NotSupportedException>(() => client.ReadLogsAsync(Target("s1", 0, "x"), new LogRequest(), default));
        Assert.Equal($"node {_node.Address} does not serve instance logs", e.Message);

        var bad = Reply(await AskAsync("""{"op": "open", "service_id": "s1"}"""));
        Assert.Equal("a logs open request needs service_id, image_index (>= 0), instance_id and engine", bad.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_node_of_the_original_motey_is_recognised_by_its_capability_list()
    {
        await using var original = new OriginalNode("""[{"capability": "x", "type": "hardware"}]""");
        var client = new ZeroMqNodeClient(original.Address, _node.Settings.ZeroMq, _requester);

        var e = await Assert.ThrowsAsync<PeerException>(() => client.ReadLogsAsync(Target("s1", 0, "i"), new LogRequest(), default));

        Assert.Equal($"node {original.Address} does not serve logs: it answered like a node of the original Motey (or a Motey.NET from before this message)", e.Message);
    }

    private async Task<string> DeployAsync(string serviceId, int index)
    {
        var image = new Image { Name = "web", Engine = "simulated" };
        var labels = new Dictionary<string, string>
        {
            [InstanceLabels.ServiceId] = serviceId,
            [InstanceLabels.ImageIndex] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var id = await _node.Local.DeployImageAsync(image, labels, default);
        await Wait.UntilAsync(async () => await _node.Local.GetImageStateAsync(image with { Id = id }, default) == ImageState.Running, "the instance runs");
        return id;
    }

    private static LogTarget Target(string serviceId, int index, string instance) => new(serviceId, index, instance, "simulated");

    private static string Open(string serviceId, int index, string instance, bool follow) =>
        LogsMessage.WriteOpen(Target(serviceId, index, instance), new LogRequest(null, follow));

    private async Task<List<LogLine>> ReadAllAsync(LogTarget target)
    {
        var lines = new List<LogLine>();
        await foreach (var line in await _node.Local.ReadLogsAsync(target, new LogRequest(), default)) lines.Add(line);
        return lines;
    }

    private Task<string> AskAsync(string json) => RawPeer.AskAsync(_node.CapabilitiesEndpoint, LogsMessage.Prefix + json);

    private static JsonElement Reply(string text)
    {
        Assert.StartsWith(LogsMessage.Prefix, text);
        return JsonDocument.Parse(text[LogsMessage.Prefix.Length..]).RootElement.Clone();
    }

    /// <summary>A node whose engines provide no logs: the INodeClient default.</summary>
    private sealed class NodeWithoutLogs(INodeClient inner) : INodeClient
    {
        public string Address => inner.Address;
        public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) => inner.GetCapabilitiesAsync(cancellationToken);
        public Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
            inner.DeployImageAsync(image, labels, cancellationToken);
        public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken) => inner.GetImageStateAsync(image, cancellationToken);
        public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => inner.GetExitCodeAsync(image, cancellationToken);
        public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
            inner.RemoveLeftoversAsync(image, labels, cancellationToken);
        public Task TerminateImageAsync(Image image, CancellationToken cancellationToken) => inner.TerminateImageAsync(image, cancellationToken);
    }
}

/// <summary>The peer requests a node client counts, and nothing else.</summary>
internal sealed class CountedPeerRequests : Motey.Host.Core.Metrics.IMoteyMetrics
{
    public List<(string Kind, Motey.Host.Core.Metrics.PeerOutcome Outcome)> Requests { get; } = [];

    public void PeerRequest(string kind, Motey.Host.Core.Metrics.PeerOutcome outcome) => Requests.Add((kind, outcome));
    public void Placement(Motey.Host.Core.Metrics.PlacementOutcome outcome, TimeSpan duration) { }
    public void InstanceRestarted(string engine) { }
    public void CapabilityEvent(string command, string outcome) { }
}
