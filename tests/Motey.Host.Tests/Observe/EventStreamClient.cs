using System.Text;
using System.Text.Json;

namespace Motey.Host.Tests.Observe;

/// <summary>One event as a client reads it off the stream.</summary>
internal sealed record SseEvent(long? Id, string Type, JsonElement Data)
{
    public string Text(string property) => Data.GetProperty(property).GetString() ?? "";
    public int Number(string property) => Data.GetProperty(property).GetInt32();
    public override string ToString() => $"{Id} {Type} {Data.GetRawText()}";
}

/// <summary>
/// A client of GET /v1/events over a real HTTP connection, reading the stream as EventSource does (fields, comments,
/// blank lines). Opening returns once the first comment has been read: from then on the client misses nothing.
/// </summary>
internal sealed class EventStreamClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStreamClient(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public HttpResponseMessage Response => _response;
    public List<string> Comments { get; } = [];
    public int? Retry { get; private set; }

    public static async Task<EventStreamClient> OpenAsync(HttpClient client, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        // (The body is read only when the answer is an error: a stream's body never ends.)
        if (!response.IsSuccessStatusCode) Assert.Fail($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var stream = new EventStreamClient(response, new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8));
        using var deadline = new CancellationTokenSource(DefaultTimeout);
        while (stream.Comments.Count == 0)
        {
            var line = await stream._reader.ReadLineAsync(deadline.Token) ?? throw new InvalidOperationException("the stream ended before its first comment");
            stream.Take(line, null);
        }
        return stream;
    }

    /// <summary>The next event; null when the stream ended. Fails the test when none comes within <paramref name="timeout"/>.</summary>
    public async Task<SseEvent?> NextAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var fields = new Fields();
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(deadline.Token);
                if (line is null) return null;
                if (line.Length == 0)
                {
                    if (fields.Data is null) continue;  // nothing to dispatch (a comment's blank line)
                    return new SseEvent(fields.Id, fields.Type ?? "message", JsonDocument.Parse(fields.Data).RootElement.Clone());
                }
                Take(line, fields);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"no event within {(timeout ?? DefaultTimeout).TotalSeconds} s");
            throw;
        }
    }

    /// <summary>Reads events until one matches <paramref name="last"/>; returns all read, that one included.</summary>
    public async Task<List<SseEvent>> ReadUntilAsync(Func<SseEvent, bool> last, string what, TimeSpan? timeout = null)
    {
        var read = new List<SseEvent>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (true)
        {
            var left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero) Assert.Fail($"timed out waiting for {what}; read: {string.Join("\n", read)}");
            SseEvent? next;
            try
            {
                next = await NextAsync(left);
            }
            catch (Xunit.Sdk.FailException)
            {
                Assert.Fail($"timed out waiting for {what}; read: {string.Join("\n", read)}");
                throw;
            }
            if (next is null) Assert.Fail($"the stream ended before {what}; read: {string.Join("\n", read)}");
            read.Add(next!);
            if (last(next!)) return read;
        }
    }

    /// <summary>Reads to the end of the stream; the events read.</summary>
    public async Task<List<SseEvent>> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var read = new List<SseEvent>();
        while (await NextAsync(timeout) is { } next) read.Add(next);
        return read;
    }

    private void Take(string line, Fields? fields)
    {
        if (line.StartsWith(':')) { Comments.Add(line[1..].Trim()); return; }
        var colon = line.IndexOf(':');
        var (name, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
        switch (name)
        {
            case "retry": Retry = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "id" when fields is not null: fields.Id = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "event" when fields is not null: fields.Type = value; break;
            case "data" when fields is not null: fields.Data = fields.Data is null ? value : fields.Data + "\n" + value; break;
        }
    }

    private sealed class Fields
    {
        public long? Id;
        public string? Type;
        public string? Data;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
