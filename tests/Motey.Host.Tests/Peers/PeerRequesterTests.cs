using System.Text;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// The requester's kept connections, over real sockets: peers that answer late, out of order, malformed or not at
/// all, REP sockets like the original's nodes, and peers that restart on the same endpoint.
/// </summary>
public sealed class PeerRequesterTests : IDisposable
{
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    private readonly PeerRequester _requester = new();

    public void Dispose() => _requester.Dispose();

    private Task<string> AskAsync(string endpoint, string text, TimeSpan? timeout = null) =>
        _requester.RequestAsync(endpoint, text, timeout ?? Patient, CancellationToken.None);

    [Fact]
    public async Task A_late_answer_after_a_timeout_is_never_returned_for_the_next_request_to_the_same_peer()
    {
        await using var peer = new ScriptedPeer();

        await Assert.ThrowsAsync<TimeoutException>(() => AskAsync(peer.Endpoint, "first", Short));
        var first = await peer.NextAsync();
        var second = AskAsync(peer.Endpoint, "second");
        var held = await peer.NextAsync();
        peer.Answer(first, "answer to first");  // late, and before the answer the second request waits for
        peer.Answer(held, "answer to second");

        Assert.Equal("second", held.Text);
        Assert.Equal("answer to second", await second);
    }

    [Fact]
    public async Task A_late_answer_on_a_connection_still_in_use_matches_nothing()
    {
        await using var peer = new ScriptedPeer();
        var patient = AskAsync(peer.Endpoint, "patient");
        var held = await peer.NextAsync();

        // Sent while "patient" still waits, so both share one connection: only the request ids tell them apart.
        await Assert.ThrowsAsync<TimeoutException>(() => AskAsync(peer.Endpoint, "hasty", Short));
        var hasty = await peer.NextAsync();
        peer.Answer(hasty, "answer to hasty");
        peer.Answer(held, "answer to patient");

        Assert.Equal("answer to patient", await patient);
    }

    [Fact]
    public async Task Many_concurrent_requests_to_one_peer_each_get_their_own_answer_whatever_the_order()
    {
        const int Count = 200;
        await using var peer = new ScriptedPeer();

        var asked = Enumerable.Range(0, Count).Select(i => AskAsync(peer.Endpoint, $"request {i}")).ToList();
        var held = new List<HeldRequest>();
        for (var i = 0; i < Count; i++) held.Add(await peer.NextAsync());
        foreach (var request in held.OrderBy(_ => Random.Shared.Next())) peer.Answer(request, $"answer to {request.Text}");

        var answers = await Task.WhenAll(asked);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"answer to request {i}"), answers);
        Assert.Equal(1, await _requester.CountConnectionsAsync());
    }

    [Fact]
    public async Task A_warmed_endpoint_is_connected_before_its_first_request_which_then_uses_that_connection()
    {
        await using var peer = new ScriptedPeer();

        _requester.Warm(peer.Endpoint);
        await Wait.UntilAsync(() => peer.Accepted == 1, "the warmed connection is accepted before any request is sent");
        var asked = AskAsync(peer.Endpoint, "deploy");
        peer.Answer(await peer.NextAsync(), "instance-1");
        _requester.Warm(peer.Endpoint);  // open already: nothing more

        Assert.Equal("instance-1", await asked);
        Assert.Equal(1, await _requester.CountConnectionsAsync());
        Assert.Equal(1, peer.Accepted);
    }

    [Fact]
    public async Task A_REP_socket_like_the_original_nodes_answers_requests_one_after_another_and_side_by_side()
    {
        var endpoint = PeerSockets.Tcp(Loopback.NewAddress(), 5091);
        using var stop = new CancellationTokenSource();
        var rep = Task.Run(() =>
        {
            using var socket = new ResponseSocket();
            socket.Options.Linger = TimeSpan.Zero;
            socket.Bind(endpoint);
            while (!stop.IsCancellationRequested)
            {
                if (socket.TryReceiveFrameString(TimeSpan.FromMilliseconds(50), out var text)) socket.SendFrame($"echo {text}");
            }
        });

        Assert.Equal("echo one", await AskAsync(endpoint, "one"));
        Assert.Equal("echo two", await AskAsync(endpoint, "two"));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"echo {i}"), await Task.WhenAll(Enumerable.Range(0, 20).Select(i => AskAsync(endpoint, $"{i}"))));
        Assert.Equal("echo ", await AskAsync(endpoint, ""));

        await stop.CancelAsync();
        await rep;
    }

    [Fact]
    public async Task A_peer_that_restarts_on_the_same_endpoint_is_reached_again()
    {
        var address = Loopback.NewAddress();
        var peer = new ScriptedPeer(address);
        var before = AskAsync(peer.Endpoint, "before");
        peer.Answer(await peer.NextAsync(), "answer from the first run");
        Assert.Equal("answer from the first run", await before);

        await peer.DisposeAsync();
        await using var restarted = new ScriptedPeer(address);
        await Wait.UntilAsync(() => restarted.Accepted > 0, "the kept connection reconnects to the restarted peer");
        var after = AskAsync(restarted.Endpoint, "after");
        var held = await restarted.NextAsync();
        restarted.Answer(held, "answer from the second run");

        Assert.Equal("after", held.Text);
        Assert.Equal("answer from the second run", await after);
        Assert.Equal(1, await _requester.CountConnectionsAsync());
    }

    [Fact]
    public async Task A_request_to_a_peer_that_is_not_listening_yet_is_answered_once_it_listens()
    {
        var address = Loopback.NewAddress();
        var waiting = AskAsync(PeerSockets.Tcp(address, 5091), "early");
        await using var peer = new ScriptedPeer(address);
        peer.Answer(await peer.NextAsync(), "late start");

        Assert.Equal("late start", await waiting);
    }

    [Fact]
    public async Task A_malformed_answer_fails_its_request_and_an_answer_without_the_envelope_is_dropped_like_REQ_drops_it()
    {
        await using var peer = new ScriptedPeer();

        var twoFrames = AskAsync(peer.Endpoint, "two frames");
        peer.Answer(await peer.NextAsync(), Encoding.UTF8.GetBytes("a"), Encoding.UTF8.GetBytes("b"));
        var error = await Assert.ThrowsAsync<PeerException>(() => twoFrames);
        Assert.Equal($"unreadable answer from {peer.Endpoint}: the message has 2 frames; expected one UTF-8 text frame", error.Message);

        var notUtf8 = AskAsync(peer.Endpoint, "not UTF-8");
        peer.Answer(await peer.NextAsync(), new byte[] { 0xff, 0xfe });
        Assert.Contains("is not valid UTF-8", (await Assert.ThrowsAsync<PeerException>(() => notUtf8)).Message);

        var bare = AskAsync(peer.Endpoint, "bare", Short);
        var request = await peer.NextAsync();
        peer.Answer(request with { Envelope = [request.Envelope[0]] }, "no id, no delimiter");
        await Assert.ThrowsAsync<TimeoutException>(() => bare);

        var fine = AskAsync(peer.Endpoint, "fine");
        peer.Answer(await peer.NextAsync(), "fine");
        Assert.Equal("fine", await fine);
    }

    [Fact]
    public async Task A_connection_unused_for_the_idle_timeout_is_closed_and_the_next_request_opens_a_new_one()
    {
        using var requester = new PeerRequester(TimeSpan.FromMilliseconds(200), PeerRequester.DefaultMaxIdleConnections);
        await using var peer = new ScriptedPeer();
        var first = requester.RequestAsync(peer.Endpoint, "", Patient, CancellationToken.None);
        peer.Answer(await peer.NextAsync(), "one");
        await first;
        Assert.Equal(1, await requester.CountConnectionsAsync());

        await Wait.UntilAsync(async () => await requester.CountConnectionsAsync() == 0, "the idle connection is closed");

        var second = requester.RequestAsync(peer.Endpoint, "", Patient, CancellationToken.None);
        peer.Answer(await peer.NextAsync(), "two");
        Assert.Equal("two", await second);
    }

    /// <summary>
    /// Connections that cannot connect back off (so a dead node does not cost ten refused connects a second), yet a
    /// node that starts listening while a request waits for it still gets that request within the request's timeout.
    /// </summary>
    [Fact]
    public async Task A_node_that_starts_listening_after_the_request_was_sent_still_gets_it_in_time()
    {
        var address = Loopback.NewAddress();
        var endpoint = PeerSockets.Tcp(address, 5091);
        var asked = _requester.RequestAsync(endpoint, "early", Patient, CancellationToken.None);
        // Refused for three seconds: the connection's tries are by then 2 s apart, the longest wait between two.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(asked.IsCompleted);

        await using var late = new ScriptedPeer(address);
        var held = await late.NextAsync();
        late.Answer(held, "late but there");
        Assert.Equal("early", held.Text);
        Assert.Equal("late but there", await asked);
    }

    /// <summary>A joiner checks each member it learned from a retained presence once: those connections must not stay open idle.</summary>
    [Fact]
    public async Task A_one_off_request_closes_the_connection_it_opened_once_answered_but_never_one_in_use()
    {
        await using var checkedOnly = new ScriptedPeer();
        await using var used = new ScriptedPeer();

        var check = _requester.RequestAsync(checkedOnly.Endpoint, "", Patient, CancellationToken.None, keep: false);
        checkedOnly.Answer(await checkedOnly.NextAsync(), "alive");
        Assert.Equal("alive", await check);
        await Wait.UntilAsync(async () => await _requester.CountConnectionsAsync() == 0, "the one-off request's connection is closed");

        var placement = AskAsync(used.Endpoint, "capabilities");
        used.Answer(await used.NextAsync(), "list");
        await placement;
        var usedCheck = _requester.RequestAsync(used.Endpoint, "", Patient, CancellationToken.None, keep: false);
        used.Answer(await used.NextAsync(), "alive");
        await usedCheck;
        // The kept connection carried the check and stays: asking again does not connect again.
        var again = AskAsync(used.Endpoint, "capabilities");
        used.Answer(await used.NextAsync(), "list");
        await again;
        Assert.Equal(1, await _requester.CountConnectionsAsync());
        Assert.Equal(1, used.Accepted);
    }

    [Fact]
    public async Task Beyond_the_cap_the_least_recently_used_idle_connection_is_closed()
    {
        using var requester = new PeerRequester(PeerRequester.DefaultIdleTimeout, maxIdleConnections: 2);
        var peers = new List<ScriptedPeer>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var peer = new ScriptedPeer();
                peers.Add(peer);
                var asked = requester.RequestAsync(peer.Endpoint, "", Patient, CancellationToken.None);
                peer.Answer(await peer.NextAsync(), $"{i}");
                await asked;
                Assert.Equal(Math.Min(i + 1, 2), await requester.CountConnectionsAsync());
            }

            // The first peer's connection went when the third one was opened: asking it again opens a new one.
            var again = requester.RequestAsync(peers[0].Endpoint, "", Patient, CancellationToken.None);
            peers[0].Answer(await peers[0].NextAsync(), "again");
            Assert.Equal("again", await again);
            await Wait.UntilAsync(() => peers[0].Accepted == 2, "the first peer accepted a second connection");
            Assert.Equal(1, peers[2].Accepted);
        }
        finally
        {
            foreach (var peer in peers) await peer.DisposeAsync();
        }
    }

    [Fact]
    public async Task Timed_out_connections_to_dead_nodes_are_closed()
    {
        var dead = Enumerable.Range(0, 20).Select(_ => PeerSockets.Tcp(Loopback.NewAddress(), 5091)).ToList();

        await Task.WhenAll(dead.Select(endpoint => Assert.ThrowsAsync<TimeoutException>(() => AskAsync(endpoint, "", Short))));

        await Wait.UntilAsync(async () => await _requester.CountConnectionsAsync() == 0, "no connection to a dead node is left");
    }

    [Fact]
    public async Task A_connection_to_a_dead_node_retired_while_later_requests_still_wait_on_it_is_closed_when_the_last_one_times_out()
    {
        var dead = PeerSockets.Tcp(Loopback.NewAddress(), 5091);

        // The second request goes out on the same connection before the first times out and retires it.
        var first = AskAsync(dead, "first", TimeSpan.FromMilliseconds(300));
        var second = AskAsync(dead, "second", TimeSpan.FromMilliseconds(600));
        await Assert.ThrowsAsync<TimeoutException>(() => first);
        await Assert.ThrowsAsync<TimeoutException>(() => second);

        // Before, the retired connection stayed open for good: one leaked socket per dead node and request timeout.
        await Wait.UntilAsync(async () => await _requester.CountConnectionsAsync() == 0, "the retired connection is closed");
    }

    [Fact]
    public async Task At_the_connection_cap_a_request_waits_for_a_slot_and_goes_out_once_one_is_free()
    {
        using var requester = new PeerRequester(PeerRequester.DefaultIdleTimeout, maxIdleConnections: 1, maxConnections: 1);
        await using var a = new ScriptedPeer();
        await using var b = new ScriptedPeer();
        var toA = requester.RequestAsync(a.Endpoint, "to a", Patient, CancellationToken.None);
        var heldA = await a.NextAsync();

        var toB = requester.RequestAsync(b.Endpoint, "to b", Patient, CancellationToken.None);
        await Task.Delay(100);
        Assert.Equal(0, b.Accepted);  // no slot while the request to A waits on the only connection
        a.Answer(heldA, "from a");
        Assert.Equal("from a", await toA);

        var heldB = await b.NextAsync();  // A's connection, idle now, made room
        b.Answer(heldB, "from b");
        Assert.Equal("from b", await toB);
        Assert.Equal(1, await requester.CountConnectionsAsync());
    }

    [Fact]
    public async Task A_request_that_finds_no_slot_within_its_timeout_fails_as_this_nodes_limit_not_as_the_peers_silence()
    {
        using var requester = new PeerRequester(PeerRequester.DefaultIdleTimeout, maxIdleConnections: 1, maxConnections: 1);
        await using var a = new ScriptedPeer();
        await using var b = new ScriptedPeer();
        var toA = requester.RequestAsync(a.Endpoint, "held", Patient, CancellationToken.None);
        await a.NextAsync();

        var error = await Assert.ThrowsAsync<Motey.Host.Core.Nodes.LocalRequestException>(
            () => requester.RequestAsync(b.Endpoint, "no slot", Short, CancellationToken.None));
        Assert.Equal($"this node could not send its request to {b.Endpoint} within 0.3 s: it holds its limit of 1 peer connections, each waiting for an answer", error.Message);
        Assert.Equal(0, b.Accepted);
    }

    [Fact]
    public async Task The_idle_cap_follows_the_cluster_size()
    {
        var size = 10;
        using var requester = new PeerRequester(clusterSize: () => size);
        Assert.Equal(PeerRequester.DefaultMaxIdleConnections, requester.MaxIdleConnections);
        size = 1000;
        Assert.Equal(4 * 1000 + 64, requester.MaxIdleConnections);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Dispose_fails_the_requests_still_waiting()
    {
        using var requester = new PeerRequester();
        await using var peer = new ScriptedPeer();
        var waiting = Enumerable.Range(0, 5).Select(_ => requester.RequestAsync(peer.Endpoint, "", Patient, CancellationToken.None)).ToList();
        await peer.NextAsync();

        requester.Dispose();

        foreach (var request in waiting) await Assert.ThrowsAsync<ObjectDisposedException>(() => request.WaitAsync(Patient));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => requester.RequestAsync(peer.Endpoint, "", Patient, CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_request_leaves_the_connection_usable()
    {
        await using var peer = new ScriptedPeer();
        using var cancel = new CancellationTokenSource();
        var cancelled = _requester.RequestAsync(peer.Endpoint, "cancelled", Patient, cancel.Token);
        var held = await peer.NextAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        peer.Answer(held, "too late");

        var next = AskAsync(peer.Endpoint, "next");
        peer.Answer(await peer.NextAsync(), "answer to next");

        Assert.Equal("answer to next", await next);
        Assert.Equal(1, await _requester.CountConnectionsAsync());
    }
}
