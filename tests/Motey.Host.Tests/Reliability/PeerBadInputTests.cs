using System.Text;
using System.Text.RegularExpressions;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Reliability;

/// <summary>
/// The ZeroMQ part of the bad-input corpus against a whole agent (<see cref="PeerCorpus"/>): every malformed request to
/// each of the four repliers gets its contract's failure reply and the replier answers a valid request right after;
/// every malformed capability event is dropped with its reason logged and a valid event after them still lands.
/// The node stays healthy and its store unchanged.
/// </summary>
public sealed class PeerBadInputTests : IAsyncLifetime
{
    private static readonly TimeSpan ReplyDeadline = TimeSpan.FromSeconds(10);

    /// <summary>Same service and image index every time: the deploy replier adopts one instance instead of starting a new one per probe.</summary>
    private const string ProbeDeploy = """{"name": "corpus-probe", "engine": "simulated", "labels": {"motey.service.id": "corpus-probe", "motey.image.index": "0"}}""";
    private const string GoneInstance = """{"id": "gone", "name": "x", "engine": "simulated"}""";

    private readonly TestFolder _folder = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await NodeState.StartPopulatedNodeAsync(_folder);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    private string Endpoint(int port) => $"tcp://{_node.Address}:{port}";

    private enum Replier { Capabilities = 5091, Deploy = 5092, Status = 5093, Terminate = 5094 }

    [Fact]
    public async Task Every_replier_answers_every_malformed_request_and_a_valid_one_right_after()
    {
        var cases = PeerCorpus.Requests().ToList();
        Assert.True(cases.Count >= 40, $"only {cases.Count} request cases");
        var before = await NodeState.ReadSettledAsync(_node.Client);
        var capabilities = await _node.Client.GetStringAsync("/v1/capabilities");
        var probeId = await AskAsync(Replier.Deploy, [Encoding.UTF8.GetBytes(ProbeDeploy)]);
        Assert.False(string.IsNullOrEmpty(probeId), "the deploy replier deploys the probe image");

        var failures = new List<string>();
        var asked = 0;
        foreach (var replier in Enum.GetValues<Replier>())
        {
            foreach (var @case in cases.Where(c => !c.NeedsId || replier is Replier.Status or Replier.Terminate))
            {
                asked++;
                var reply = await AskAsync(replier, @case.Frames);
                if (Judge(replier, reply, capabilities) is { } wrong) failures.Add($"{replier} replier, {@case.Name}: {wrong}");
                var probe = await ProbeAsync(replier, probeId!, capabilities);
                if (probe is not null) failures.Add($"{replier} replier, after {@case.Name}: {probe}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {asked} requests went wrong:\n" + string.Join("\n", failures));
        await NodeState.AssertHealthyAndUnchangedAsync(_node.Client, before, $"{asked} malformed peer requests");
    }

    [Fact]
    public async Task Dealer_peers_that_skip_the_envelope_or_pipeline_garbage_get_one_reply_per_request()
    {
        var before = await NodeState.ReadSettledAsync(_node.Client);
        var failures = new List<string>();
        foreach (var replier in Enum.GetValues<Replier>())
        {
            using var dealer = new DealerSocket();
            dealer.Options.Linger = TimeSpan.Zero;
            dealer.Connect(Endpoint((int)replier));
            // No empty delimiter: the replier sends the reply back behind the identity alone.
            const int Pipelined = 100;
            for (var i = 0; i < Pipelined; i++) dealer.SendFrame(i % 2 == 0 ? "{" : $"garbage {i}");
            var replies = 0;
            var frames = new List<byte[]>();
            while (replies < Pipelined && dealer.TryReceiveMultipartBytes(ReplyDeadline, ref frames)) replies++;
            if (replies != Pipelined) failures.Add($"{replier} replier: {replies} replies to {Pipelined} pipelined requests");

            // An envelope and nothing after it: a request with no frames at all.
            dealer.SendFrameEmpty();
            if (!dealer.TryReceiveMultipartBytes(ReplyDeadline, ref frames))
                failures.Add($"{replier} replier: no reply to a request without frames");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await NodeState.AssertHealthyAndUnchangedAsync(_node.Client, before, "pipelined garbage from DEALER peers");
        foreach (var replier in Enum.GetValues<Replier>())
            Assert.NotNull(await AskAsync(replier, [Encoding.UTF8.GetBytes(GoneInstance)]));
    }

    [Fact]
    public async Task A_request_over_the_16_MB_message_limit_costs_only_its_sender_and_every_replier_keeps_answering()
    {
        var before = await NodeState.ReadSettledAsync(_node.Client);
        var huge = new byte[PeerSockets.MaxMessageBytes + 1024];
        Array.Fill(huge, (byte)'[');
        // ZeroMQ drops the sender's connection without a reply (ZMQ_MAXMSGSIZE); the sender's own deadline ends its wait.
        await Task.WhenAll(Enum.GetValues<Replier>().Select(r => AskAsync(r, [huge], TimeSpan.FromSeconds(2))));

        foreach (var replier in Enum.GetValues<Replier>())
            Assert.NotNull(await AskAsync(replier, [Encoding.UTF8.GetBytes(GoneInstance)]));
        await NodeState.AssertHealthyAndUnchangedAsync(_node.Client, before, "requests over the message limit");
    }

    [Fact]
    public async Task Every_malformed_capability_event_is_dropped_with_its_reason_and_a_valid_event_after_them_lands()
    {
        var cases = PeerCorpus.Events().ToList();
        Assert.True(cases.Count >= 30, $"only {cases.Count} event cases");
        var before = await NodeState.ReadSettledAsync(_node.Client);
        var dropped = DroppedEventsLogged();

        // One sender for the whole test: a publisher closed right after sending may lose what it had not sent yet.
        using var sender = EventSender.Connect(Endpoint(5090));
        foreach (var @case in cases) sender.SendFrames(@case.Frames);
        sender.Send("""add_capability#[{"capability": "ev-after", "capability_type": "marker"}]""");
        var marker = new Capability("ev-after", "marker");
        List<Capability> stored = [];
        await UntilAsync(async () => (stored = await CapabilitiesAsync()).Contains(marker), "the valid event after the malformed ones is stored");

        var expected = System.Text.Json.JsonSerializer.Deserialize<List<Capability>>(before.Capabilities)!.Append(marker).ToHashSet();
        var leaked = stored.Where(c => !expected.Contains(c)).ToList();
        var lost = expected.Where(c => !stored.Contains(c)).ToList();
        Assert.True(leaked.Count == 0 && lost.Count == 0,
            $"malformed events changed the store: added [{string.Join(", ", leaked)}], removed [{string.Join(", ", lost)}]");
        // Every case was refused for a reason the log gives (the listener logs one line per dropped event).
        await Wait.UntilAsync(() => DroppedEventsLogged() - dropped >= cases.Count, $"the log gives the reason for all {cases.Count} dropped events");

        sender.Send("""remove_capability#[{"capability": "ev-after", "capability_type": "marker"}]""");
        await Wait.UntilAsync(async () => !(await CapabilitiesAsync()).Contains(marker), "the marker is removed again");
        await NodeState.AssertHealthyAndUnchangedAsync(_node.Client, before, $"{cases.Count} malformed capability events");
    }

    [Fact]
    public async Task An_event_with_an_escaped_lone_surrogate_is_dropped_and_the_listener_keeps_going()
    {
        var before = await NodeState.ReadSettledAsync(_node.Client);
        using var sender = EventSender.Connect(Endpoint(5090));
        sender.SendFrames(PeerCorpus.LoneSurrogateEvent.Frames);
        sender.Send("""add_capability#[{"capability": "ev-after", "capability_type": "marker"}]""");
        await UntilAsync(async () => (await CapabilitiesAsync()).Contains(new Capability("ev-after", "marker")),
            "the valid event after the one with a lone surrogate is stored");
        sender.Send("""remove_capability#[{"capability": "ev-after", "capability_type": "marker"}]""");
        await Wait.UntilAsync(async () => !(await CapabilitiesAsync()).Contains(new Capability("ev-after", "marker")), "the marker is removed again");
        await NodeState.AssertHealthyAndUnchangedAsync(_node.Client, before, "an event with a lone surrogate");
    }

    /// <summary>Null when the reply is what the replier's contract says for a request it cannot act on.</summary>
    private static string? Judge(Replier replier, string? reply, string capabilities) => (replier, reply) switch
    {
        (_, null) => $"no reply within {ReplyDeadline.TotalSeconds} s",
        (Replier.Capabilities, _) => SameCapabilities(reply, capabilities) ? null : $"expected the capability list, got '{Preview(reply)}'",
        (Replier.Deploy, "") => null,
        (Replier.Status, "5") => null,
        (Replier.Terminate, _) when reply.StartsWith(PeerRepliers.ErrorPrefix, StringComparison.Ordinal) => null,
        _ => $"unexpected reply '{Preview(reply)}'",
    };

    /// <summary>Null when the replier still does its job for a valid request.</summary>
    private async Task<string?> ProbeAsync(Replier replier, string probeId, string capabilities)
    {
        var (request, expected) = replier switch
        {
            Replier.Capabilities => ("", null),
            Replier.Deploy => (ProbeDeploy, probeId),
            Replier.Status => (GoneInstance, "4"),
            _ => (GoneInstance, ""),
        };
        var reply = await AskAsync(replier, [Encoding.UTF8.GetBytes(request)]);
        if (reply is null) return "no reply to a valid request";
        if (replier == Replier.Capabilities) return SameCapabilities(reply, capabilities) ? null : $"a valid request got '{Preview(reply)}'";
        return reply == expected ? null : $"a valid request got '{Preview(reply)}', expected '{expected}'";
    }

    private static bool SameCapabilities(string reply, string capabilities) =>
        CapabilityReply.Read(reply) is { } list && CapabilityReply.Read(capabilities) is { } known && list.SequenceEqual(known);

    /// <summary>One request on a fresh REQ socket; the reply's frames joined, or null when none came in time.</summary>
    private Task<string?> AskAsync(Replier replier, byte[][] frames, TimeSpan? deadline = null) => Task.Run(() =>
    {
        using var socket = new RequestSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Connect(Endpoint((int)replier));
        socket.SendMultipartBytes(frames);
        List<string>? reply = null;
        return socket.TryReceiveMultipartStrings(deadline ?? ReplyDeadline, Encoding.UTF8, ref reply) ? string.Concat(reply!) : null;
    });

    private async Task<List<Capability>> CapabilitiesAsync() =>
        (await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<List<Capability>>(_node.Client, "/v1/capabilities"))!;

    /// <summary>Waits for <paramref name="condition"/>; on timeout the failure quotes the node's log warnings and errors.</summary>
    private async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                var problems = LogText().Split('\n').Where(l => l.Contains("[ERR]") || l.Contains("[FTL]") || l.Contains("[WRN]") || l.StartsWith("System.", StringComparison.Ordinal)).TakeLast(8);
                Assert.Fail($"timed out waiting until {what}; the node's last warnings and errors:\n{string.Join("\n", problems.Select(l => Preview(l)))}");
            }
            await Task.Delay(50);
        }
    }

    private string LogText()
    {
        var logs = Path.Combine(_folder.Path, "logs");
        if (!Directory.Exists(logs)) return "";
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(logs, "*.log").Order())
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            text.Append(reader.ReadToEnd());
        }
        return text.ToString();
    }

    /// <summary>How many "Dropped a capability event" lines the node's log files hold so far.</summary>
    private int DroppedEventsLogged() => Regex.Count(LogText(), "Dropped a capability event");

    private static string Preview(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
