using System.Security.Cryptography;
using System.Text;
using Motey.Abstractions;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Peers;

/// <summary>
/// The replier's half of remote logs (<see cref="LogsMessage"/>). The capabilities replier is shared with placement, so a
/// request never waits for lines: <c>open</c> starts a pump (the VAL's enumeration into a bounded buffer) and answers with
/// what is buffered at once; <c>next</c> hands over what is buffered now, at most <see cref="MaxReplyLines"/> lines or
/// <see cref="MaxReplyBytes"/> bytes. At most <see cref="MaxSessions"/> are open; one not asked for
/// <see cref="IdleTimeout"/> is closed (its requester went away without saying so).
/// </summary>
internal sealed class LogSessions : IDisposable
{
    public const int MaxSessions = 64;
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Lines and bytes a session buffers; a follower that falls behind loses the oldest.</summary>
    public const int MaxBufferedLines = 10_000;
    public const int MaxBufferedBytes = 1024 * 1024;

    /// <summary>One answer's limits. With <see cref="MaxLineChars"/> and JSON escaping, an answer stays far below the peer frame limit (16 MiB).</summary>
    public const int MaxReplyLines = 1_000;
    public const int MaxReplyBytes = 256 * 1024;

    /// <summary>Longer lines are cut (an engine may hand over megabytes without a line break).</summary>
    public const int MaxLineChars = 64 * 1024;

    private readonly Dictionary<string, LogSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly INodeClient _local;
    private readonly ILogger _log;
    private readonly Timer _sweep;
    private int _disposed;

    public LogSessions(INodeClient local, ILogger log, TimeSpan? idleTimeout = null)
    {
        _local = local;
        _log = log;
        IdleTimeout = idleTimeout ?? DefaultIdleTimeout;
        var period = TimeSpan.FromTicks(Math.Max(IdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 20));
        _sweep = new Timer(_ => CloseIdle(), null, period, period);
    }

    public TimeSpan IdleTimeout { get; }

    /// <summary>Sessions open now (for tests).</summary>
    public int Count
    {
        get { lock (_gate) return _sessions.Count; }
    }

    /// <summary>Answers one request (<paramref name="text"/> starts with <see cref="LogsMessage.Prefix"/>).</summary>
    public async Task<string> AnswerAsync(string text, CancellationToken cancellationToken)
    {
        if (LogsMessage.ReadRequest(text, out var problem) is not { } request)
        {
            _log.LogWarning("Refused a logs request: {Problem}; request: {Text}", problem, Frames.Preview(text));
            return LogsMessage.WriteError(LogsMessage.Codes.Failed, problem!);
        }
        return request.Op switch
        {
            LogsMessage.Open => await OpenAsync(request, cancellationToken),
            LogsMessage.Next => Next(request.Session!),
            _ => Close(request.Session!),
        };
    }

    private async Task<string> OpenAsync(LogsMessage.Request request, CancellationToken cancellationToken)
    {
        var target = new LogTarget(request.ServiceId!, request.ImageIndex!.Value, request.InstanceId!, request.Engine!);
        var session = new LogSession(NewId(), request.Follow, cancellationToken);
        lock (_gate)
        {
            if (_sessions.Count >= MaxSessions)
            {
                session.Dispose();
                return LogsMessage.WriteError(LogsMessage.Codes.Busy,
                    $"busy: node {_local.Address} has {MaxSessions} log sessions open; try again later");
            }
            _sessions[session.Id] = session;
        }
        try
        {
            var lines = await _local.ReadLogsAsync(target, new LogRequest(request.Tail, request.Follow), session.Stopping);
            session.Start(lines, _log);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Remove(session.Id);
            _log.LogInformation("Could not open the logs of instance {InstanceId} ({Engine}) for a peer: {Error}", target.InstanceId, target.Engine, e.Message);
            return LogsMessage.WriteError(CodeOf(e), e.Message);
        }
        _log.LogDebug("Log session {Session} opened for instance {InstanceId} ({Engine}), follow {Follow}", session.Id, target.InstanceId, target.Engine, request.Follow);
        return Drain(session);
    }

    private string Next(string id)
    {
        LogSession? session;
        lock (_gate) _sessions.TryGetValue(id, out session);
        return session is null
            ? LogsMessage.WriteError(LogsMessage.Codes.Failed,
                $"node {_local.Address} has no log session {id} (it ended, or was not asked for {IdleTimeout.TotalSeconds:0.###} s)")
            : Drain(session);
    }

    private string Close(string id)
    {
        Remove(id);
        return LogsMessage.WriteReply(new LogsMessage.Reply { Session = id, Lines = [], End = true });
    }

    private string Drain(LogSession session)
    {
        var batch = session.Drain();
        if (batch.Error is { } error)
        {
            Remove(session.Id);
            return LogsMessage.WriteError(CodeOf(error), error.Message);
        }
        if (batch.End) Remove(session.Id);
        return LogsMessage.WriteReply(new LogsMessage.Reply { Session = session.Id, Lines = batch.Lines, End = batch.End, More = batch.More });
    }

    private static string CodeOf(Exception e) => e switch
    {
        NoInstanceException => LogsMessage.Codes.NotFound,
        NotSupportedException => LogsMessage.Codes.NotSupported,
        _ => LogsMessage.Codes.Failed,
    };

    private void Remove(string id)
    {
        LogSession? session;
        lock (_gate)
        {
            if (!_sessions.Remove(id, out session)) return;
        }
        session.Dispose();
    }

    private void CloseIdle()
    {
        List<LogSession> idle;
        lock (_gate)
        {
            idle = _sessions.Values.Where(s => s.IdleFor >= IdleTimeout).ToList();
            foreach (var session in idle) _sessions.Remove(session.Id);
        }
        foreach (var session in idle)
        {
            _log.LogInformation("Closed log session {Session}: not asked for {Idle} s", session.Id, IdleTimeout.TotalSeconds);
            // On the timer's thread: anything escaping here would end the agent. A plugin's cancellation callback that
            // throws (its log reader's Dispose) is that plugin's fault, logged, and the other sessions are still closed.
            try
            {
                session.Dispose();
            }
            catch (Exception e)
            {
                _log.LogWarning(e, "Closing log session {Session} failed", session.Id);
            }
        }
    }

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _sweep.Dispose();
        List<LogSession> all;
        lock (_gate)
        {
            all = [.. _sessions.Values];
            _sessions.Clear();
        }
        foreach (var session in all) session.Dispose();
    }

    /// <summary>What one <c>next</c> hands over.</summary>
    private sealed record Batch(IReadOnlyList<LogLine> Lines, bool End, bool More, Exception? Error);

    /// <summary>
    /// One reader: the pump and its buffer. Following, a full buffer drops its oldest lines (one line says how many were
    /// dropped); a read that does not follow has nothing live to lose, so its pump waits for room instead.
    /// </summary>
    private sealed class LogSession : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly Queue<(LogLine Line, int Bytes)> _buffer = new();
        private readonly CancellationTokenSource _stop;
        private readonly bool _follow;
        private SemaphoreSlim? _room;
        private int _bytes;
        private long _dropped;
        private bool _finished;
        private Exception? _error;
        private long _touched = Environment.TickCount64;
        private bool _started;

        public LogSession(string id, bool follow, CancellationToken stopping)
        {
            Id = id;
            _follow = follow;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            Stopping = _stop.Token;
        }

        public string Id { get; }
        public CancellationToken Stopping { get; }
        public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _touched));

        public void Start(IAsyncEnumerable<LogLine> lines, ILogger log)
        {
            if (!_follow) _room = new SemaphoreSlim(0);
            _started = true;
            _ = Task.Run(() => PumpAsync(lines, log));
        }

        private async Task PumpAsync(IAsyncEnumerable<LogLine> lines, ILogger log)
        {
            try
            {
                await foreach (var line in lines.WithCancellation(Stopping))
                {
                    while (!TryAdd(Cut(line))) await _room!.WaitAsync(Stopping);
                }
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested)
            {
                // Closed: nobody reads what is left.
            }
            catch (Exception e)
            {
                log.LogInformation("Reading the logs of session {Session} failed: {Error}", Id, e.Message);
                lock (_gate) _error = e;
            }
            finally
            {
                lock (_gate) _finished = true;
                _stop.Dispose();
            }
        }

        private static LogLine Cut(LogLine line) => line.Text.Length <= MaxLineChars
            ? line
            : line with { Text = string.Concat(line.Text.AsSpan(0, MaxLineChars), $" … ({line.Text.Length - MaxLineChars} more characters cut)") };

        /// <summary>False when the buffer is full and the session does not follow: the pump waits for room.</summary>
        private bool TryAdd(LogLine line)
        {
            var bytes = Encoding.UTF8.GetByteCount(line.Text) + 64;
            lock (_gate)
            {
                var full = _buffer.Count >= MaxBufferedLines || _bytes + bytes > MaxBufferedBytes;
                if (full && _buffer.Count > 0)
                {
                    if (!_follow) return false;
                    while (_buffer.Count > 0 && (_buffer.Count >= MaxBufferedLines || _bytes + bytes > MaxBufferedBytes))
                    {
                        _bytes -= _buffer.Dequeue().Bytes;
                        _dropped++;
                    }
                }
                _buffer.Enqueue((line, bytes));
                _bytes += bytes;
                return true;
            }
        }

        public Batch Drain()
        {
            Interlocked.Exchange(ref _touched, Environment.TickCount64);
            var lines = new List<LogLine>();
            bool end, more;
            Exception? error = null;
            lock (_gate)
            {
                if (_dropped > 0)
                {
                    lines.Add(new LogLine(null, LogSource.Output, $"… {_dropped} lines dropped (the reader fell behind)"));
                    _dropped = 0;
                }
                var size = 0;
                while (_buffer.TryPeek(out var next) && lines.Count < MaxReplyLines && (lines.Count == 0 || size + next.Bytes <= MaxReplyBytes))
                {
                    _buffer.Dequeue();
                    _bytes -= next.Bytes;
                    size += next.Bytes;
                    lines.Add(next.Line);
                }
                more = _buffer.Count > 0;
                end = _finished && !more && _error is null;
                if (_finished && !more && lines.Count == 0) error = _error;
            }
            if (_room is { CurrentCount: 0 } room) room.Release();
            return new Batch(lines, end, more, error);
        }

        /// <summary>Stops the pump; the pump disposes its token source when it has ended (or here, when it never started).</summary>
        public void Dispose()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The pump has ended and cleaned up.
            }
            finally
            {
                if (!_started) _stop.Dispose();
            }
        }
    }
}
