using System.Net;
using Microsoft.Extensions.Logging;
using Motey.Host.Peers;

namespace Motey.Host.Tests.Peers;

/// <summary>How refused connections reach the log: the first at once, the rest summed up at most once a minute.</summary>
public sealed class HandshakeRefusalsTests : IDisposable
{
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly ManualTime _time = new();
    private readonly HandshakeRefusals _refusals;

    public HandshakeRefusalsTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));
        _refusals = new HandshakeRefusals(_loggers.CreateLogger("refusals"), _time);
    }

    public void Dispose() => _loggers.Dispose();

    private List<string> Warnings => _logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();

    private static IPEndPoint From(string ip, int port = 40000) => new(IPAddress.Parse(ip), port);

    [Fact]
    public void A_peer_that_retries_ten_times_a_second_costs_one_warning_at_once_and_one_summary_a_minute()
    {
        _refusals.Refused("capabilities replier", "tcp://127.0.0.9:5091", From("10.0.0.7", 41000));
        Assert.Equal(
            "Warning refusals: Refused a connection from 10.0.0.7:41000 to the capabilities replier on tcp://127.0.0.9:5091: it did not complete the CURVE "
            + "handshake, so it does not hold this cluster's key ([ZEROMQ] cluster_key; or it speaks plain ZeroMQ, or not ZeroMQ). It gets no "
            + "answer; further refusals are summed up at most once a minute", Assert.Single(Warnings));

        for (var i = 0; i < 600; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            var socket = i % 2 == 0 ? "capabilities replier" : "deploy image replier";
            _refusals.Refused(socket, "tcp://127.0.0.9:509x", From(i % 3 == 0 ? "10.0.0.8" : "10.0.0.7", 41001 + i));
            _refusals.Flush();
        }
        _refusals.Refused("deploy image replier", "tcp://127.0.0.9:5092", null);
        Assert.Equal(2, Warnings.Count);
        Assert.Equal("Warning refusals: Refused 600 more connections without this cluster's key in the last 60 s on the capabilities replier, "
            + "deploy image replier, from 10.0.0.7 (400), 10.0.0.8 (200)", Warnings[1]);

        _time.Advance(TimeSpan.FromSeconds(59));
        _refusals.Flush();
        Assert.Equal(2, Warnings.Count);
        _time.Advance(TimeSpan.FromSeconds(2));
        _refusals.Flush();
        Assert.Equal(3, Warnings.Count);
        Assert.Contains("Refused 1 more connections", Warnings[2]);
        Assert.Contains("from an address NetMQ did not keep (1)", Warnings[2]);
    }

    [Fact]
    public void After_a_quiet_minute_the_next_refusal_is_told_at_once_and_a_final_flush_tells_what_is_left()
    {
        _refusals.Refused("capability event listener", "tcp://127.0.0.9:5090", From("10.0.0.7"));
        _time.Advance(TimeSpan.FromMinutes(5));
        _refusals.Refused("capability event listener", "tcp://127.0.0.9:5090", From("10.0.0.9"));
        Assert.Equal(2, Warnings.Count);
        Assert.Contains("from 10.0.0.9:40000", Warnings[1]);

        _refusals.Refused("capability event listener", "tcp://127.0.0.9:5090", From("10.0.0.9"));
        _refusals.Flush();
        Assert.Equal(2, Warnings.Count);
        _refusals.Flush(final: true);
        Assert.Equal(3, Warnings.Count);
        Assert.Contains("Refused 1 more connections", Warnings[2]);
    }

    [Fact]
    public void A_summary_names_at_most_ten_addresses_and_counts_the_rest()
    {
        _refusals.Refused("capabilities replier", "e", From("10.0.1.1"));
        for (var i = 0; i < 25; i++) _refusals.Refused("capabilities replier", "e", From($"10.0.2.{i + 1}"));
        _time.Advance(HandshakeRefusals.Interval);
        _refusals.Flush();

        var summary = Warnings[1];
        Assert.Contains("Refused 25 more connections", summary);
        Assert.Equal(10, summary.Split("(1)").Length - 1);
        Assert.EndsWith("and 15 more addresses", summary);
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
