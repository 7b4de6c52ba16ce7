using System.Globalization;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Health;

namespace Motey.Host.Peers;

/// <summary>
/// A remote node reached over its four ZeroMQ repliers (the seed's ZeroMQServer client half). Every request is
/// bounded by [ZEROMQ] request_timeout, a deploy by deploy_timeout (image pulls take long); failures and timeouts
/// throw a <see cref="PeerException"/> that names the node: a <see cref="PeerTimeoutException"/> when it did not answer,
/// a message saying "unreadable answer" when it answered something that is not what the request expects. Every
/// answer, readable or not, is told to <paramref name="answers"/>: the node is alive.
/// </summary>
internal sealed class ZeroMqNodeClient(
    string address, ZeroMqSettings settings, PeerRequester requester, PeerAnswers? answers = null, IMoteyMetrics? metrics = null) : INodeClient
{
    private readonly IMoteyMetrics _metrics = metrics ?? NoMetrics.Instance;

    public string Address => address;

    public Task<IReadOnlyList<Capability>> GetCapabilitiesAsync(CancellationToken cancellationToken) =>
        CapabilitiesAsync(keep: true, cancellationToken);

    /// <summary>
    /// The capabilities request as a direct check (is the node alive?): a connection opened for it is closed once the
    /// node answers, unless placement or a deploy uses it meanwhile. A node that joins a large cluster checks every member
    /// it learned from a retained presence once; kept, those connections held a thousand idle sockets.
    /// </summary>
    public Task<IReadOnlyList<Capability>> CheckAsync(CancellationToken cancellationToken) =>
        CapabilitiesAsync(keep: false, cancellationToken);

    private async Task<IReadOnlyList<Capability>> CapabilitiesAsync(bool keep, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.CapabilitiesReplier, "", settings.RequestTimeout, cancellationToken, keep: keep);
        if (ErrorReason(reply) is { } reason) throw new PeerException($"node {address} could not list its capabilities: {reason}");
        return CapabilityReply.Read(reply, out var problem)
            ?? throw new PeerException($"node {address} gave an unreadable answer to the capabilities request ({problem}): '{Frames.Preview(reply)}'");
    }

    /// <summary>
    /// Opens the deploy and state connections ahead of the deploy (see <see cref="PeerRequester.Warm"/>): on a node this
    /// node has not placed on lately, each costs a TCP and ZMTP handshake that otherwise follows the confirmation.
    /// </summary>
    public void PrepareDeploy()
    {
        requester.Warm(PeerSockets.Tcp(address, settings.DeployImageReplier));
        requester.Warm(PeerSockets.Tcp(address, settings.ImageStatusReplier));
    }

    /// <summary>Sends the image with the labels as the <c>labels</c> extension; an empty answer is the original's "failed".</summary>
    public async Task<string> DeployImageAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.DeployImageReplier, ImageMessage.Write(image, labels), settings.DeployTimeout, cancellationToken);
        if (reply.Length == 0) throw new PeerException($"node {address} could not deploy image {image.Name} (see its log)");
        if (ErrorReason(reply) is { } reason) throw new PeerException($"node {address} could not deploy image {image.Name}: {reason}");
        return reply;
    }

    public async Task<ImageState> GetImageStateAsync(Image image, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.ImageStatusReplier, ImageMessage.Write(image, null), settings.RequestTimeout, cancellationToken);
        if (int.TryParse(reply, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && Enum.IsDefined((ImageState)number))
            return (ImageState)number;
        throw new PeerException($"node {address} gave an unreadable answer to the status request of image {image.Name} (expected a state number from 0 to 5): '{Frames.Preview(reply)}'");
    }

    /// <summary>
    /// Asked over the capabilities replier (<see cref="ExitCodeMessage"/>): null when the node's engine does not know it,
    /// or when the node answers like an original node (its capability list), which cannot tell.
    /// </summary>
    public async Task<int?> GetExitCodeAsync(Image image, CancellationToken cancellationToken)
    {
        var text = await RequestAsync(settings.CapabilitiesReplier, ExitCodeMessage.WriteRequest(image.Engine, image.Id), settings.RequestTimeout,
            cancellationToken, countAnswer: false);
        try
        {
            var reply = ReadOwnReply(text, "exitcode", "exit code", "could not tell the exit code", ExitCodeMessage.ReadReply,
                r => r.Error is null, message => new NotSupportedException(message));
            return reply.Error is null ? reply.ExitCode : throw new PeerException($"node {address}: {reply.Error}");
        }
        catch (NotSupportedException)
        {
            return null;  // an original node: unknown, as the v1 status answer leaves it
        }
    }

    /// <summary>The protocol has no removal by labels: the remote node's own adoption by labels is what guards against duplicates.</summary>
    public Task RemoveLeftoversAsync(Image image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The fence request on the capabilities replier; an answer that is no fence answer (an original node's list) is "no opinion".</summary>
    public async Task<IReadOnlyList<FenceVerdict>?> ConfirmInstancesAsync(string holder, IReadOnlyList<HeldInstance> held, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.CapabilitiesReplier, FenceMessage.WriteRequest(holder, held), settings.RequestTimeout, cancellationToken);
        if (ErrorReason(reply) is { } reason) throw new PeerException($"node {address} refused the fence request: {reason}");
        return FenceMessage.ReadReply(reply);
    }

    public async Task TerminateImageAsync(Image image, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(settings.ImageTerminateReplier, ImageMessage.Write(image, null), settings.RequestTimeout, cancellationToken);
        if (reply.Length == 0) return;
        var reason = ErrorReason(reply) ?? $"unexpected answer '{Frames.Preview(reply)}'";
        throw new PeerException($"node {address} could not terminate image {image.Name}: {reason}");
    }

    /// <summary>
    /// The node's cpu, memory and disk use (<see cref="NodeStatusMessage"/>), within [ZEROMQ] request_timeout. Throws
    /// <see cref="NotSupportedException"/> when the node answers like an original node (its capability list),
    /// <see cref="PeerTimeoutException"/> when it does not answer, <see cref="PeerException"/> for an error or unreadable answer.
    /// </summary>
    public async Task<NodeStatus> GetNodeStatusAsync(CancellationToken cancellationToken)
    {
        var text = await RequestAsync(settings.CapabilitiesReplier, NodeStatusMessage.Request, settings.RequestTimeout, cancellationToken, countAnswer: false);
        var reply = ReadOwnReply(text, "nodestatus", "node status", "could not tell its status", NodeStatusMessage.ReadReply,
            r => r.Error is null, message => new NotSupportedException(message));
        return reply.Status ?? throw new PeerException($"node {address} answered the node status request with an error: {reply.Error}");
    }

    /// <summary>While following, how often buffered lines are asked for; at once when an answer was cut at its size limit.</summary>
    public static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(250);

    /// <summary>Reading without following, how soon to ask again when the node had nothing buffered yet.</summary>
    public static readonly TimeSpan ReadPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Opens a log session on the node's capabilities replier (<see cref="LogsMessage"/>); the lines come from polling it.
    /// An answer without the logs prefix is an original node's capability list: it has no logs.
    /// </summary>
    public async Task<IAsyncEnumerable<LogLine>> ReadLogsAsync(LogTarget target, LogRequest request, CancellationToken cancellationToken)
    {
        // The open request itself is not cancelled half-way: once the node has opened the session only its answer names
        // it, and a session nobody closes goes on reading for nobody until the node's idle sweep (30 s). A reader that
        // leaves meanwhile stops waiting at once; the answer, when it comes, closes the session.
        var open = LogsRequestAsync(LogsMessage.WriteOpen(target, request), CancellationToken.None);
        LogsMessage.Reply opened;
        try
        {
            opened = await open.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = open.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is { End: false, Session: { } session }) CloseLogs(session);
                _ = t.Exception;  // observed: a failed open after the reader left is nobody's error
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
        return request.Follow ? FollowLogsAsync(opened, cancellationToken) : PollLogsAsync(opened, follow: false, cancellationToken);
    }

    /// <summary>How many lines a follower may fall behind a remote instance before the oldest are dropped.</summary>
    public const int FollowBuffer = 1000;

    /// <summary>
    /// Following: the session is polled on its own loop into a small buffer, so a reader slower than the instance
    /// does not leave the node's session idle until it closes it; when the reader falls <see cref="FollowBuffer"/>
    /// lines behind, the oldest are dropped and a line says how many.
    /// </summary>
    private async IAsyncEnumerable<LogLine> FollowLogsAsync(LogsMessage.Reply opened,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var dropped = 0L;
        var buffer = System.Threading.Channels.Channel.CreateBounded<LogLine>(
            new System.Threading.Channels.BoundedChannelOptions(FollowBuffer)
            {
                FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
                SingleReader = true,
                SingleWriter = true,
            },
            _ => Interlocked.Increment(ref dropped));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = PumpAsync(opened, buffer.Writer, stop.Token);
        try
        {
            while (await buffer.Reader.WaitToReadAsync(cancellationToken))
            {
                while (buffer.Reader.TryRead(out var line))
                {
                    if (Interlocked.Exchange(ref dropped, 0) is > 0 and var lost)
                        yield return new LogLine(DateTimeOffset.UtcNow, LogSource.Output,
                            string.Create(CultureInfo.InvariantCulture, $"… {lost} lines dropped (the reader fell behind node {address})"));
                    yield return line;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pump;  // its own finally closes the session when it is still open
        }
    }

    /// <summary>Polls a follow session into <paramref name="buffer"/>; completes it at the end, or with the failure.</summary>
    private async Task PumpAsync(LogsMessage.Reply reply, System.Threading.Channels.ChannelWriter<LogLine> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var line in PollLogsAsync(reply, follow: true, cancellationToken)) buffer.TryWrite(line);
            buffer.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            buffer.TryComplete();  // the reader went away
        }
        catch (Exception e)
        {
            buffer.TryComplete(e);
        }
    }

    private async IAsyncEnumerable<LogLine> PollLogsAsync(LogsMessage.Reply reply, bool follow,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var session = reply.Session!;
        var open = true;
        try
        {
            while (true)
            {
                foreach (var line in reply.Lines ?? []) yield return line;
                if (reply.End)
                {
                    open = false;
                    yield break;
                }
                if (!reply.More) await Task.Delay(follow ? FollowPoll : ReadPoll, cancellationToken);
                try
                {
                    reply = await LogsRequestAsync(LogsMessage.WriteNext(session), cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    open = e is PeerTimeoutException;  // an error answer has closed the session already
                    throw;
                }
            }
        }
        finally
        {
            // The reader went away (or this node gave up waiting): the node need not keep pumping for nobody.
            if (open) CloseLogs(session);
        }
    }

    private delegate T? ReplyReader<T>(string text, out string? problem);

    /// <summary>
    /// The answer to one of this agent's own messages on the capabilities replier (logs, node status), counted as
    /// <paramref name="kind"/> once read: an answer with an error in it is a failed request though it lacks the generic
    /// error prefix. The node's generic error, an original node's capability list (it answers any message so, without
    /// the prefix) and an unreadable text each become an exception naming the node and <paramref name="subject"/>.
    /// </summary>
    private T ReadOwnReply<T>(string text, string kind, string subject, string failure, ReplyReader<T> read, Func<T, bool> succeeded,
        Func<string, Exception> fromOriginal) where T : class
    {
        string? problem = null;
        var reason = ErrorReason(text);
        var reply = reason is null ? read(text, out problem) : null;
        _metrics.PeerRequest(kind, reply is not null && succeeded(reply) ? PeerOutcome.Ok : PeerOutcome.Error);
        if (reason is not null) throw new PeerException($"node {address} {failure}: {reason}");
        if (reply is not null) return reply;
        if (CapabilityReply.Read(text) is not null)
            throw fromOriginal($"node {address} does not serve {subject}: it answered like a node of the original Motey (or a Motey.NET from before this message)");
        throw new PeerException($"node {address} gave an unreadable answer to the {subject} request ({problem}): '{Frames.Preview(text)}'");
    }

    private void CloseLogs(string session)
    {
        var endpoint = PeerSockets.Tcp(address, settings.CapabilitiesReplier);
        _ = requester.RequestAsync(endpoint, LogsMessage.WriteClose(session), settings.RequestTimeout, CancellationToken.None)
            .ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    private async Task<LogsMessage.Reply> LogsRequestAsync(string request, CancellationToken cancellationToken)
    {
        var text = await RequestAsync(settings.CapabilitiesReplier, request, settings.RequestTimeout, cancellationToken, countAnswer: false);
        var reply = ReadOwnReply(text, "logs", "logs", "could not read the logs", LogsMessage.ReadReply,
            r => r.Error is null, message => new PeerException(message));
        if (reply.Error is not { } error) return reply;
        throw reply.Code switch
        {
            LogsMessage.Codes.NotFound => new NoInstanceException(error),
            LogsMessage.Codes.NotSupported => new NotSupportedException(error),
            _ => new PeerException($"node {address}: {error}"),
        };
    }

    /// <param name="countAnswer">false: the caller counts an answer in the metrics itself (it knows an error answer when it reads one).</param>
    private async Task<string> RequestAsync(int port, string request, TimeSpan timeout, CancellationToken cancellationToken, bool countAnswer = true,
        bool keep = true)
    {
        var endpoint = PeerSockets.Tcp(address, port);
        var kind = Kind(port, request);
        try
        {
            var reply = await requester.RequestAsync(endpoint, request, timeout, cancellationToken, keep);
            answers?.Answered(address);
            if (countAnswer) _metrics.PeerRequest(kind, reply.StartsWith(PeerRepliers.ErrorPrefix, StringComparison.Ordinal) ? PeerOutcome.Error : PeerOutcome.Ok);
            return reply;
        }
        catch (TimeoutException)
        {
            _metrics.PeerRequest(kind, PeerOutcome.Timeout);
            var problem = $"node {address} did not answer on {endpoint} within {timeout.TotalSeconds:0.###} s"
                + (requester.Secured ? " (a node without this cluster's key, or with another one, does not answer either)" : "");
            answers?.NotAnswered(address, problem);
            throw new PeerTimeoutException(problem);
        }
        catch (PeerException e)
        {
            _metrics.PeerRequest(kind, PeerOutcome.Error);
            throw new PeerException($"node {address}: {e.Message}", e);
        }
        catch (LocalRequestException e)
        {
            // This node's own limit, not the peer's failure: said so, and kept apart from the peer's errors by its type.
            _metrics.PeerRequest(kind, PeerOutcome.Error);
            throw new LocalRequestException($"node {address} was not asked: {e.Message}", e);
        }
    }

    /// <summary>What a request is, for the metrics: by its replier, and on the capabilities replier by its prefix.</summary>
    private string Kind(int port, string request) =>
        port == settings.DeployImageReplier ? "deploy"
        : port == settings.ImageStatusReplier ? "status"
        : port == settings.ImageTerminateReplier ? "terminate"
        : request.StartsWith(FenceMessage.Prefix, StringComparison.Ordinal) ? "fence"
        : request.StartsWith(LogsMessage.Prefix, StringComparison.Ordinal) ? "logs"
        : request.StartsWith(NodeStatusMessage.Prefix, StringComparison.Ordinal) ? "nodestatus"
        : request.StartsWith(ExitCodeMessage.Prefix, StringComparison.Ordinal) ? "exitcode"
        : "capabilities";

    private static string? ErrorReason(string reply) =>
        reply.StartsWith(PeerRepliers.ErrorPrefix, StringComparison.Ordinal) ? reply[PeerRepliers.ErrorPrefix.Length..] : null;
}
