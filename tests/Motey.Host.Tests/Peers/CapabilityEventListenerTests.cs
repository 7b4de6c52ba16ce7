using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>Capability events over a real SUB socket into a real SQLite store (no VAL needed, so none is loaded).</summary>
public sealed class CapabilityEventListenerTests : IAsyncLifetime
{
    private PeerNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = await PeerNode.CreateAsync(simulatedPlugin: false);
        await _node.StartListenerAsync();
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task An_add_capability_event_adds_its_capabilities_to_the_store()
    {
        using var sender = EventSender.Connect(_node.EventEndpoint);
        sender.Send("""add_capability#[{"capability": "gpu", "capability_type": "hardware"}, {"capability": "camera", "capability_type": "hardware"}]""");

        var stored = await _node.WaitForCapabilitiesAsync(c => c.Count == 2, "both capabilities are stored");
        Assert.Contains(new Capability("gpu", "hardware"), stored);
        Assert.Contains(new Capability("camera", "hardware"), stored);
    }

    [Fact]
    public async Task A_remove_capability_event_removes_its_capabilities_from_the_store()
    {
        await _node.Capabilities.AddAsync([new Capability("gpu", "hardware"), new Capability("zigbee", "radio")]);
        using var sender = EventSender.Connect(_node.EventEndpoint);
        sender.Send("""remove_capability#[{"capability": "gpu", "capability_type": "hardware"}]""");

        var stored = await _node.WaitForCapabilitiesAsync(c => c.Count == 1, "gpu is removed");
        Assert.Equal([new Capability("zigbee", "radio")], stored);
    }

    [Fact]
    public async Task Events_are_applied_in_order_so_an_add_then_a_remove_of_the_same_capability_ends_removed()
    {
        using var sender = EventSender.Connect(_node.EventEndpoint);
        const string Gpu = """[{"capability": "gpu", "capability_type": "hardware"}]""";
        for (var i = 0; i < 200; i++)
        {
            sender.Send("add_capability#" + Gpu);
            sender.Send("remove_capability#" + Gpu);
        }
        sender.Send("""add_capability#[{"capability": "done", "capability_type": "marker"}]""");

        var stored = await _node.WaitForCapabilitiesAsync(c => c.Any(x => x.Name == "done"), "the marker after the last remove is stored");
        Assert.Equal([new Capability("done", "marker")], stored);
    }

    public static TheoryData<string, byte[][], string> MalformedEvents => new()
    {
        { "no '#'", [RawPeer.Utf8("""add_capability[{"capability": "x", "capability_type": "y"}]""")], "no '#' separates the command" },
        { "unknown command", [RawPeer.Utf8("""add_capabilities#[{"capability": "x", "capability_type": "y"}]""")], "unknown command 'add_capabilities'" },
        { "invalid JSON", [RawPeer.Utf8("add_capability#[{\"capability\": ")], "invalid capability list" },
        { "wrong schema", [RawPeer.Utf8("""add_capability#[{"capability": "x"}]""")], "required property 'capability_type' is missing" },
        { "not a list", [RawPeer.Utf8("""add_capability#{"capability": "x", "capability_type": "y"}""")], "expected a list of capabilities" },
        { "plugin type", [RawPeer.Utf8("""add_capability#[{"capability": "docker", "capability_type": "plugin"}]""")], "managed by the plugin catalog" },
        { "empty frame", [[]], "the event is empty" },
        { "multi-frame", [RawPeer.Utf8("add_capability#"), RawPeer.Utf8("""[{"capability": "x", "capability_type": "y"}]""")], "the message has 2 frames" },
        { "non-UTF-8 bytes", [[.. RawPeer.Utf8("add_capability#[{\"capability\": \""), 0xff, 0xfe, .. RawPeer.Utf8("\", \"capability_type\": \"y\"}]")]], "not valid UTF-8" },
    };

    [Theory]
    [MemberData(nameof(MalformedEvents))]
    public async Task A_malformed_event_is_dropped_with_its_reason_logged_and_a_valid_event_after_it_still_applies(string kind, byte[][] frames, string reason)
    {
        using var sender = EventSender.Connect(_node.EventEndpoint);
        sender.SendFrames(frames);
        sender.Send("""add_capability#[{"capability": "after", "capability_type": "marker"}]""");

        var stored = await _node.WaitForCapabilitiesAsync(c => c.Count > 0, $"the valid event after the {kind} one is stored");
        Assert.Equal([new Capability("after", "marker")], stored);
        Assert.Contains(_node.Logs.Lines, l => l.Contains("Dropped a capability event") && l.Contains(reason));
    }

    [Fact]
    public async Task A_burst_of_5000_events_reaches_the_store_without_loss_in_batches_of_at_most_1000()
    {
        const int Count = 5000;
        using var sender = EventSender.Connect(_node.EventEndpoint);
        for (var i = 0; i < Count; i++) sender.Send($$"""add_capability#[{"capability": "c{{i}}", "capability_type": "burst"}]""");

        await _node.WaitForCapabilitiesAsync(c => c.Count == Count, $"all {Count} capabilities are stored");
        await Wait.UntilAsync(() => AppliedBatches().Sum(b => b.Events) == Count, $"the batches logged add up to {Count} events");
        Assert.All(AppliedBatches(), b => Assert.InRange(b.Events, 1, CapabilityEventListener.MaxBatch));
        Assert.Equal(Count, AppliedBatches().Sum(b => b.Added));
    }

    [Fact]
    public async Task A_batch_applies_its_events_in_order_so_add_remove_add_ends_as_the_last_event_says()
    {
        var listener = _node.CreateListener();

        await listener.ApplyAsync([Event("add_capability", "x"), Event("remove_capability", "x"), Event("add_capability", "y"),
            Event("remove_capability", "y"), Event("add_capability", "y"), Event("add_capability", "x"), Event("remove_capability", "x")], CancellationToken.None);

        Assert.Equal([new Capability("y", "hardware")], await _node.Capabilities.AllAsync());
        Assert.Equal([(7, 4, 3)], AppliedBatches());  // one batch: x added and removed twice, y added twice and removed once
        Assert.Equal(7, _node.Logs.Lines.Count(l => l.StartsWith("Debug") && l.Contains("Capability event ")));
    }

    [Fact]
    public async Task A_burst_over_the_socket_keeps_its_order_for_the_same_name()
    {
        using var sender = EventSender.Connect(_node.EventEndpoint);
        sender.Send(Text("add_capability", "x"));
        sender.Send(Text("remove_capability", "x"));
        sender.Send(Text("add_capability", "y"));

        var stored = await _node.WaitForCapabilitiesAsync(c => c.Any(x => x.Name == "y"), "y, added after x was removed, is stored");
        Assert.Equal([new Capability("y", "hardware")], stored);
    }

    [Fact]
    public async Task Malformed_events_in_the_middle_of_a_batch_are_dropped_and_their_neighbours_apply()
    {
        var listener = _node.CreateListener();

        await listener.ApplyAsync([
            Event("add_capability", "a"),
            [RawPeer.Utf8("""add_capability[{"capability": "bad", "capability_type": "hardware"}]""")],
            Event("add_capability", "b"),
            [RawPeer.Utf8("add_capability#"), RawPeer.Utf8("""[{"capability": "bad", "capability_type": "hardware"}]""")],
            [[0xff, 0xfe]],
            Event("remove_capability", "a"),
            [RawPeer.Utf8("""remove_capability#[{"capability": "b"}]""")],
        ], CancellationToken.None);

        Assert.Equal([new Capability("b", "hardware")], await _node.Capabilities.AllAsync());
        Assert.Equal(4, _node.Logs.Lines.Count(l => l.StartsWith("Warning") && l.Contains("Dropped a capability event")));
        Assert.Equal([(3, 2, 1)], AppliedBatches());
    }

    [Fact]
    public async Task Plugin_capabilities_stay_out_of_reach_of_events_in_a_batch()
    {
        var docker = new Capability("docker", Capability.PluginType);
        await _node.Capabilities.AddAsync([docker]);
        var listener = _node.CreateListener();

        await listener.ApplyAsync([
            [RawPeer.Utf8("""remove_capability#[{"capability": "docker", "capability_type": "plugin"}]""")],
            [RawPeer.Utf8("""add_capability#[{"capability": "ok", "capability_type": "hardware"}, {"capability": "fake", "capability_type": "plugin"}]""")],
            Event("add_capability", "kept"),
        ], CancellationToken.None);

        Assert.Equal([new Capability("kept", "hardware"), docker], await _node.Capabilities.AllAsync());  // the mixed event is refused whole
        Assert.Equal(2, _node.Logs.Lines.Count(l => l.Contains("managed by the plugin catalog, not by events")));
    }

    [Fact]
    public async Task When_the_store_fails_the_batch_is_lost_with_an_error_naming_its_size_and_the_listener_keeps_going()
    {
        await PoisonAsync();
        var listener = _node.CreateListener();

        await listener.ApplyAsync([Event("add_capability", "a"), Event("add_capability", "poison"), Event("add_capability", "b")], CancellationToken.None);

        Assert.Empty(await _node.Capabilities.AllAsync());  // one transaction: a is lost with the poison
        Assert.Contains(_node.Logs.Lines, l => l.StartsWith("Error") && l.Contains("could not apply 3 events") && l.Contains("poisoned"));

        using var sender = EventSender.Connect(_node.EventEndpoint);
        sender.Send(Text("add_capability", "poison"));
        await Wait.UntilAsync(() => _node.Logs.Lines.Any(l => l.Contains("could not apply 1 events")), "the running listener reports its lost event");
        sender.Send(Text("add_capability", "after"));
        await _node.WaitForCapabilitiesAsync(c => c.Count == 1, "the event after the failure is stored");
    }

    private static string Text(string command, string name) => $$"""{{command}}#[{"capability": "{{name}}", "capability_type": "hardware"}]""";

    private static List<byte[]> Event(string command, string name) => [RawPeer.Utf8(Text(command, name))];

    /// <summary>(events, added, removed) of each batch the listener logged as applied.</summary>
    private List<(int Events, int Added, int Removed)> AppliedBatches() =>
        _node.Logs.Lines.Select(l => Regex.Match(l, @"Capability events applied: (\d+) events, (\d+) capabilities added, (\d+) removed"))
            .Where(m => m.Success).Select(m => (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value))).ToList();

    /// <summary>Makes every insert of a capability named 'poison' abort its transaction.</summary>
    private async Task PoisonAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_node.Settings.Database.Path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TRIGGER poison BEFORE INSERT ON capabilities WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;";
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task The_publisher_delivers_an_event_to_a_running_listener_and_says_so()
    {
        var output = new StringWriter();
        var code = await CapabilityEventPublisher.PublishAsync(_node.EventEndpoint, CapabilityEventPublisher.AddCommand, [new Capability("gpu", "hardware")], output);

        Assert.Equal(0, code);
        Assert.Contains($"sent add_capability for gpu (hardware) to {_node.EventEndpoint}", output.ToString());
        await _node.WaitForCapabilitiesAsync(c => c.Contains(new Capability("gpu", "hardware")), "gpu is stored");

        code = await CapabilityEventPublisher.PublishAsync(_node.EventEndpoint, CapabilityEventPublisher.RemoveCommand, [new Capability("gpu", "hardware")], output);
        Assert.Equal(0, code);
        await _node.WaitForCapabilitiesAsync(c => c.Count == 0, "gpu is removed again");
    }

    [Fact]
    public async Task The_publisher_returns_1_and_says_nobody_listens_when_no_listener_subscribes()
    {
        var endpoint = $"tcp://{Loopback.NewAddress()}:5090";
        var output = new StringWriter();

        var code = await CapabilityEventPublisher.PublishAsync(endpoint, CapabilityEventPublisher.AddCommand, [new Capability("gpu", "hardware")], output, TimeSpan.FromSeconds(0.5));

        Assert.Equal(1, code);
        Assert.Contains($"no capability event listener subscribed on {endpoint}", output.ToString());
    }

    [Theory]
    [InlineData("add_capabilities", "gpu", "hardware", "unknown capability command 'add_capabilities'")]
    [InlineData("add_capability", "docker", "plugin", "managed by the plugin catalog")]
    [InlineData("add_capability", " ", "hardware", "must not be empty")]
    public async Task The_publisher_refuses_what_the_listener_would_drop_with_exit_code_2(string command, string name, string type, string message)
    {
        var output = new StringWriter();

        var code = await CapabilityEventPublisher.PublishAsync(_node.EventEndpoint, command, [new Capability(name, type)], output);

        Assert.Equal(2, code);
        Assert.Contains(message, output.ToString());
    }

    [Fact]
    public async Task A_publisher_with_a_plain_PUB_socket_like_the_original_is_heard()
    {
        // The original's script: PUB, connect, send. A plain PUB cannot know when the subscription arrived, so it sends until heard.
        using var publisher = new PublisherSocket();
        publisher.Connect(_node.EventEndpoint);
        await Wait.UntilAsync(async () =>
        {
            publisher.SendFrame("""add_capability#[{"capability": "legacy", "capability_type": "api"}]""");
            return (await _node.Capabilities.AllAsync()).Count == 1;
        }, "the event of a plain PUB socket is stored");
    }

    [Fact]
    public async Task A_listener_whose_endpoint_is_taken_fails_to_start_naming_the_endpoint()
    {
        await using var other = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string>
        {
            ["ZEROMQ:capability_engine_ipc_path"] = _node.EventEndpoint,
        });

        var error = await Assert.ThrowsAsync<PeerBindException>(other.StartListenerAsync);

        Assert.Equal($"cannot bind the capability event listener on {_node.EventEndpoint}: the address is already in use (another agent or program listens there)", error.Message);
        Assert.True(other.Logs.Contains(_node.EventEndpoint));
    }

    [Fact]
    public async Task A_listener_stopped_and_started_again_on_the_same_endpoint_receives_events()
    {
        for (var round = 0; round < 3; round++)
        {
            await _node.StopListenerAsync();
            await _node.StartListenerAsync();
            using var sender = EventSender.Connect(_node.EventEndpoint);
            sender.Send($$"""add_capability#[{"capability": "round{{round}}", "capability_type": "test"}]""");
            await _node.WaitForCapabilitiesAsync(c => c.Count == round + 1, $"the event of round {round} is stored");
        }
    }
}
