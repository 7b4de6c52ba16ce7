using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Peers;

namespace Motey.Host.Tests.Logs;

/// <summary>The bounded buffer between an engine's lines and the peer answers: answers stay small, nothing read is lost, a follower that falls behind is told.</summary>
public sealed class LogSessionBufferTests
{
    [Fact]
    public async Task A_large_log_comes_whole_and_in_order_in_answers_below_the_size_limit()
    {
        var line = new string('x', 1_000);
        using var sessions = new LogSessions(new ScriptedNode(Count: 3_000, Text: i => $"{i} {line}", Follow: false), NullLogger.Instance);

        var reply = await sessions.AnswerAsync(Open(follow: false), default);
        var texts = new List<string>();
        var session = "";
        while (true)
        {
            Assert.True(reply.Length <= LogSessions.MaxReplyBytes + 64 * 1024, $"an answer of {reply.Length} characters");
            using var json = JsonDocument.Parse(reply[LogsMessage.Prefix.Length..]);
            session = json.RootElement.GetProperty("session").GetString()!;
            texts.AddRange(json.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!));
            if (json.RootElement.GetProperty("end").GetBoolean()) break;
            reply = await sessions.AnswerAsync(LogsMessage.WriteNext(session), default);
        }

        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => $"{i} {line}"), texts);
        Assert.Equal(0, sessions.Count);
    }

    [Fact]
    public async Task A_follower_that_falls_behind_loses_the_oldest_lines_and_is_told_how_many()
    {
        var engine = new ScriptedNode(Count: 25_000, Text: i => $"line {i}", Follow: true);
        using var sessions = new LogSessions(engine, NullLogger.Instance);
        var opened = await sessions.AnswerAsync(Open(follow: true), default);
        var session = JsonDocument.Parse(opened[LogsMessage.Prefix.Length..]).RootElement.GetProperty("session").GetString()!;
        // The reader asks only once every line has passed the session's buffer: it has fallen behind by 15,000 (less what
        // the open's answer took), whatever the machine's speed.
        await engine.Yielded.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var first = JsonDocument.Parse(opened[LogsMessage.Prefix.Length..]).RootElement.GetProperty("lines").EnumerateArray().Count();

        var texts = new List<string>();
        await Wait.UntilAsync(async () =>
        {
            using var json = JsonDocument.Parse((await sessions.AnswerAsync(LogsMessage.WriteNext(session), default))[LogsMessage.Prefix.Length..]);
            texts.AddRange(json.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!));
            return texts.Contains("line 24999");
        }, "the last line arrives");

        var notices = texts.Where(t => t.StartsWith("… ", StringComparison.Ordinal) && t.EndsWith(" lines dropped (the reader fell behind)", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(notices);
        var dropped = notices.Sum(t => int.Parse(t.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
        var received = texts.Where(t => t.StartsWith("line ", StringComparison.Ordinal)).Select(t => int.Parse(t[5..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(received.Count <= LogSessions.MaxBufferedLines, $"{received.Count} lines after the open's answer");
        Assert.Equal(received.Order(), received);                       // the newest kept, in order
        Assert.Equal(25_000, first + received.Count + dropped);         // every line either arrived or was counted as dropped
    }

    private static string Open(bool follow) =>
        LogsMessage.WriteOpen(new LogTarget("s1", 0, "i1", "scripted"), new LogRequest(null, follow));

    /// <summary>A node whose engine prints <paramref name="Count"/> lines at once; following, it then waits until cancelled.</summary>
    private sealed record ScriptedNode(int Count, Func<int, string> Text, bool Follow) : INodeClient
    {
        public string Address => "127.0.0.9";

        public Task<IAsyncEnumerable<LogLine>> ReadLogsAsync(LogTarget target, LogRequest request, CancellationToken cancellationToken) =>
            Task.FromResult(LinesAsync(cancellationToken));

        /// <summary>Set once every line has been handed to the reader.</summary>
        public TaskCompletionSource Yielded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private async IAsyncEnumerable<LogLine> LinesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (var i = 0; i < Count; i++) yield return new LogLine(null, LogSource.Output, Text(i));
            Yielded.TrySetResult();
            if (Follow) await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task TerminateImageAsync(Image image, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
