using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Motey.Host.Peers;
using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>
/// Our ZMTP against libzmq 4.3.4 itself, through Debian's pyzmq: its PUB sockets publish to our ipc listener as the
/// original Motey's publishers do, and its SUB socket hears our publisher.
/// </summary>
public sealed class PyzmqInteropTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new("motey-pyzmq-ipc-");
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentQueue<string> _delivered = new();
    private ZmtpSubscriberListener? _listener;

    public PyzmqInteropTests() => _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_logs));

    private string Endpoint => "ipc://" + Path.Combine(_folder.Path, "capability_engine.ipc");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_listener is not null) await _listener.DisposeAsync();
        _loggers.Dispose();
        _folder.Dispose();
    }

    private async Task StartListenerAsync() =>
        _listener = await ZmtpSubscriberListener.StartAsync(Endpoint, "capability event listener", PeerSockets.MaxMessageBytes, (frames, _) =>
        {
            _delivered.Enqueue(string.Join("|", frames.Select(Encoding.UTF8.GetString)));
            return ValueTask.CompletedTask;
        }, _loggers.CreateLogger("ipc"));

    private Task WaitDeliveredAsync(Func<IReadOnlyCollection<string>, bool> condition, string what) =>
        Wait.UntilAsync(() => condition(_delivered), what, detail: () => string.Join("\n", _logs.Lines));

    [Fact]
    public async Task The_original_addcapability_script_is_heard()
    {
        await StartListenerAsync();

        var (code, output) = await Pyzmq.RunAsync(Pyzmq.AddCapabilityScript(Endpoint, "add_capability", "gpu", "hardware"));

        Assert.True(code == 0, output);
        await WaitDeliveredAsync(d => d.Contains("""add_capability#[{"capability": "gpu", "capability_type": "hardware"}]"""), "the event is delivered");
        Assert.Contains(_logs.Lines, l => l.Contains("A PUB publisher (pid ", StringComparison.Ordinal) && l.Contains("ZMTP 3.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Several_pyzmq_publishers_at_once_are_all_heard()
    {
        await StartListenerAsync();

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Pyzmq.RunAsync(Pyzmq.AddCapabilityScript(Endpoint, "add_capability", $"sensor{i}", "hardware"))));

        Assert.All(runs, r => Assert.True(r.Code == 0, r.Output));
        await WaitDeliveredAsync(d => Enumerable.Range(0, 4).All(i => d.Any(e => e.Contains($"sensor{i}", StringComparison.Ordinal))), "all four events are delivered");
    }

    [Fact]
    public async Task A_pyzmq_publisher_that_waits_for_the_subscription_loses_none_of_a_burst_and_keeps_multipart_messages_whole()
    {
        await StartListenerAsync();

        var (code, output) = await Pyzmq.RunAsync($$"""
            import zmq
            context = zmq.Context()
            publisher = context.socket(zmq.XPUB)
            publisher.setsockopt(zmq.SNDHWM, 0)  # queue all: a publisher with the default 1000 drops what the reader has not taken yet
            publisher.connect({{Pyzmq.Quote(Endpoint)}})
            print('subscription', publisher.recv())
            for i in range(5000):
                publisher.send_string('event %d' % i)
            publisher.send_multipart([b'first', b'', b'third'])
            publisher.close()  # lingers until all is sent
            context.term()
            """);

        Assert.True(code == 0, output);
        Assert.Contains("subscription b'\\x01'", output, StringComparison.Ordinal);  // our SUBSCRIBE command, as libzmq hands it up
        await WaitDeliveredAsync(d => d.Count == 5001, "5000 events and the multipart message are delivered");
        Assert.Equal([.. Enumerable.Range(0, 5000).Select(i => $"event {i}"), "first||third"], _delivered);
    }

    [Fact]
    public async Task A_pyzmq_publisher_with_heartbeats_keeps_its_one_connection()
    {
        await StartListenerAsync();

        var (code, output) = await Pyzmq.RunAsync($$"""
            import time, zmq
            context = zmq.Context()
            publisher = context.socket(zmq.XPUB)
            publisher.setsockopt(zmq.HEARTBEAT_IVL, 200)
            publisher.setsockopt(zmq.HEARTBEAT_TIMEOUT, 20000)
            publisher.connect({{Pyzmq.Quote(Endpoint)}})
            publisher.recv()
            # 125 PINGs over 25 s: libzmq drops the connection when one goes unanswered for 20 s, so a listener that does
            # not answer them loses it within the sleep. (4 s, then 8 s, were not room enough on a loaded CI machine: a
            # test host that stalled that long had its connection dropped, the PONG was written into a broken pipe, and
            # the event went out before the new connection's subscription came.)
            time.sleep(25)
            publisher.send_string('after the heartbeats')
            publisher.close()  # lingers until all is sent
            context.term()
            """);

        Assert.True(code == 0, output);
        await WaitDeliveredAsync(d => d.Contains("after the heartbeats"), "the event after the heartbeats is delivered");
        Assert.True(1 == _logs.Lines.Count(l => l.Contains("publisher (pid ", StringComparison.Ordinal) && l.Contains("connected to", StringComparison.Ordinal)),
            string.Join("\n", _logs.Lines));
    }

    [Fact]
    public async Task Our_publisher_is_heard_by_a_pyzmq_subscriber_bound_on_ipc()
    {
        await using var subscriber = Pyzmq.Start(Pyzmq.SubscriberScript(Endpoint, "add_capability"));
        await subscriber.WaitForLineAsync("bound");

        var output = new StringWriter();
        var code = await CapabilityEventPublisher.PublishAsync(Endpoint, CapabilityEventPublisher.AddCommand,
            [new Motey.Host.Core.Model.Capability("gpu", "hardware")], output);

        Assert.True(code == 0, output.ToString());
        Assert.Equal(0, await subscriber.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("""received add_capability#[{"capability":"gpu","capability_type":"hardware"}]""", subscriber.Output, StringComparison.Ordinal);
    }
}
