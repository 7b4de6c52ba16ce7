using System.Buffers;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Carter;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Motey.Abstractions;
using Motey.Host.Api.OpenApi;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Parsing;
using Motey.Host.Peers;
using Motey.Host.Storage;

namespace Motey.Host.Api;

/// <summary>
/// /v1/service/{id}/logs: what an image's instance prints, read through the VAL of the node that runs it (this node's
/// in-process, another's over its capabilities replier), streamed line by line: nothing waits in a buffer.
/// </summary>
public sealed class LogsModule : ICarterModule
{
    public const string TextPlain = "text/plain; charset=utf-8";
    public const string NdJson = "application/x-ndjson";

    /// <summary>
    /// How long the answer waits for the first line before it starts: an error that comes at once (the engine refuses
    /// the instance) is still a problem answer, while a follow with nothing printed yet gets its 200 soon.
    /// </summary>
    private static readonly TimeSpan FirstLineGrace = TimeSpan.FromSeconds(1);

    private static readonly JsonSerializerOptions LineJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/service/{id}/logs", ReadAsync)
            .WithTags("services")
            .WithSummary("What an image's instance prints, streamed line by line")
            .WithDescription("""
                Query: image = the image's index (0-based) or its name when unique (may be left out when the service has one
                image); tail = only the last N lines (default: all); follow = true keeps streaming new lines until the instance
                ends; timestamps = true puts each line's time (RFC 3339, UTC) before it in the text format.
                text/plain by default; application/x-ndjson when Accept asks for it: one {"time", "stream", "text"} per line,
                stream being output, stdout or stderr. An image on another node is read through that node.
                """)
            .Produces<string>(StatusCodes.Status200OK, "text/plain", NdJson)
            .WithResponseExample(StatusCodes.Status200OK, "\"simulated instance sim-9c41 of web starting\\nsimulated instance sim-9c41 of web running\\n\"")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithResponseExample(StatusCodes.Status400BadRequest, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Choose an image", "status": 400,
                 "detail": "service 3f2a9c1e has 2 images: 0 (web), 1 (db); choose one with ?image="}
                """)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithResponseExample(StatusCodes.Status409Conflict, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.10", "title": "No instance", "status": 409,
                 "detail": "image 0 (web) of service 3f2a9c1e has no instance now: it is INITIAL (no node has the capabilities it needs)",
                 "state": 0, "state_name": "INITIAL"}
                """)
            .ProducesProblem(StatusCodes.Status501NotImplemented)
            .WithResponseExample(StatusCodes.Status501NotImplemented, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.2", "title": "Not provided", "status": 501, "detail": "the 'lxc' VAL does not provide instance logs"}
                """)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .WithResponseExample(StatusCodes.Status502BadGateway, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.3", "title": "Bad gateway", "status": 502,
                 "detail": "node 10.0.0.7 does not serve logs: it answered like a node of the original Motey (or a Motey.NET from before this message)"}
                """);

    /// <remarks>The query parameters arrive as text and is checked by <see cref="LogQuery"/> (so a bad value is a problem answer that names it); it is bound here so the OpenAPI document lists it.</remarks>
    private static async Task<IResult> ReadAsync(
        string id, HttpContext http, ServiceRepository services, ZeroMqPeers peers, ILogger<LogsModule> log,
        [FromQuery(Name = "image"), Description("The image: its index in the service (0-based) or its name when unique; may be left out when the service has one image")] string? imageChoice = null,
        [FromQuery, Description("Only the last this many lines printed so far (a whole number >= 0); default all")] string? tail = null,
        [FromQuery, Description("true: keep streaming new lines until the instance ends; default false")] string? follow = null,
        [FromQuery, Description("true: text format only, each line's time (RFC 3339, UTC) before it; default false")] string? timestamps = null)
    {
        var ct = http.RequestAborted;
        var errors = new List<InputError>();
        var query = LogQuery.Parse(http.Request.Query, errors);
        _ = (imageChoice, tail, follow, timestamps);  // the same values, read (and checked for repeats and unknown names) by LogQuery
        if (errors.Count > 0) return Problems.Invalid("Invalid logs query", errors);
        if (await services.GetAsync(id, ct) is not { } service) return Problems.NotFound($"no service with id '{id}'");
        var (index, problem) = query.ChooseImage(service);
        if (problem is not null) return problem;
        var image = service.Images[index];
        var which = string.Create(CultureInfo.InvariantCulture, $"image {index} ({image.Name}) of service {service.Id}");
        if (image.Id.Length == 0 || image.Node is null) return NoInstance(which, image, null);

        var target = new LogTarget(service.Id, index, image.Id, image.Engine);
        IAsyncEnumerator<LogLine>? lines = null;
        var pending = new PendingMove();
        try
        {
            var opened = await peers.For(image.Node).ReadLogsAsync(target, new LogRequest(query.Tail, query.Follow), ct);
            lines = opened.GetAsyncEnumerator(ct);
            var first = pending.Task = lines.MoveNextAsync().AsTask();
            await Task.WhenAny(first, Task.Delay(FirstLineGrace, ct));
            if (first.IsCompleted) await first;  // a failure that came at once is still a problem answer
            await StartAsync(http, query);
            await StreamAsync(http, query, lines, pending);
            return Results.Empty;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Results.Empty;  // the client went away
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            return Failed(e, which, image, log);
        }
        catch (Exception e)
        {
            // The answer has started: no problem answer fits any more. Breaking the connection tells the client the
            // lines ended by a failure, not because the instance ended.
            log.LogWarning("Logs of {Which} on node {Node} broke off: {Error}", which, image.Node, e.Message);
            http.Abort();
            return Results.Empty;
        }
        finally
        {
            if (lines is not null)
            {
                try
                {
                    // An async iterator cannot be disposed while a MoveNextAsync is pending (NotSupportedException, and
                    // its finally, e.g. closing a peer's log session, would never run): let the pending move end first;
                    // the request's token is cancelled by now or the move has completed, and its outcome no longer matters.
                    if (pending.Task is { IsCompleted: false } move) await move.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    await lines.DisposeAsync();
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                {
                    // A reader cancelled mid-wait: nothing left to release.
                }
            }
        }
    }

    private static IResult Failed(Exception e, string which, Image image, ILogger log) => e switch
    {
        NotSupportedException => Problems.NotProvided(e.Message),
        NoInstanceException => NoInstance(which, image, e.Message),
        PeerException => Problems.BadGateway(e.Message),
        _ => LoggedEngineFailure(e, which, image, log),
    };

    private static IResult LoggedEngineFailure(Exception e, string which, Image image, ILogger log)
    {
        log.LogWarning(e, "Could not read the logs of {Which} on node {Node}: {Error}", which, image.Node, e.Message);
        return Problems.BadGateway($"the {image.Engine} engine on node {image.Node} could not read the logs of {which}: {e.Message}");
    }

    private static IResult NoInstance(string which, Image image, string? why)
    {
        var state = Motey.Host.Core.Events.EventTypes.StateName(image.State);
        var message = image.StateMessage.Length > 0 ? $" ({image.StateMessage})" : "";
        var reason = why is not null ? $"; {why}" : image.State == ImageState.Terminated ? "; it ended and was removed" : "";
        return Problems.NoInstance($"{which} has no instance now: it is {state}{message}{reason}", image.State);
    }

    /// <summary>Headers out at once, and no buffering anywhere on the way: a follow with nothing printed yet still shows it is open.</summary>
    private static async Task StartAsync(HttpContext http, LogQuery query)
    {
        var response = http.Response;
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = WantsNdJson(http.Request) ? NdJson : TextPlain;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";  // nginx and the like: pass each line on at once
        response.Headers.XContentTypeOptions = "nosniff";
        await response.StartAsync(http.RequestAborted);
        if (query.Follow) await response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    /// <summary>
    /// Each line is written as it comes; the writer is flushed whenever the next line is not there at once, so no line
    /// waits in a buffer while the instance is quiet, and a burst of lines goes out in few writes; and whenever
    /// <see cref="FlushBytes"/> are waiting, so a source that is always ready (a long log file) streams too, and the
    /// client's pace holds the reading back instead of the whole log piling up in memory.
    /// </summary>
    private static async Task StreamAsync(HttpContext http, LogQuery query, IAsyncEnumerator<LogLine> lines, PendingMove pending)
    {
        var ct = http.RequestAborted;
        var writer = http.Response.BodyWriter;
        var ndjson = http.Response.ContentType == NdJson;
        var counted = new CountingWriter(writer);
        while (true)
        {
            var more = pending.Task!;
            if (!more.IsCompleted || counted.Unflushed >= FlushBytes)
            {
                await writer.FlushAsync(ct);
                counted.Unflushed = 0;
            }
            if (!await more) break;
            Write(counted, lines.Current, ndjson, query.Timestamps);
            var next = lines.MoveNextAsync();
            pending.Task = next.IsCompletedSuccessfully ? Task.FromResult(next.Result) : next.AsTask();
        }
        await writer.FlushAsync(ct);
    }

    /// <summary>How many written bytes make a flush even while the next line is ready.</summary>
    internal const int FlushBytes = 32 * 1024;

    /// <summary>The move the lines' enumerator has under way, so every exit can let it end before disposing.</summary>
    private sealed class PendingMove
    {
        public Task<bool>? Task { get; set; }
    }

    /// <summary>A buffer writer that counts what passes through it (PipeWriter.UnflushedBytes is not offered by every body writer).</summary>
    private sealed class CountingWriter(IBufferWriter<byte> inner) : IBufferWriter<byte>
    {
        public long Unflushed { get; set; }

        public void Advance(int count)
        {
            inner.Advance(count);
            Unflushed += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
        public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }

    private static void Write(IBufferWriter<byte> writer, LogLine line, bool ndjson, bool timestamps)
    {
        if (ndjson)
        {
            using (var json = new Utf8JsonWriter(writer, new JsonWriterOptions { Encoder = LineJson.Encoder }))
                JsonSerializer.Serialize(json, line, LineJson);
            writer.Write("\n"u8);
            return;
        }
        if (timestamps && line.Time is { } time)
        {
            Encoding.UTF8.GetBytes(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture), writer);
            writer.Write(" "u8);
        }
        Encoding.UTF8.GetBytes(line.Text, writer);
        writer.Write("\n"u8);
    }

    /// <summary>NDJSON when Accept names application/x-ndjson (q > 0) and does not prefer text/plain; text otherwise.</summary>
    private static bool WantsNdJson(HttpRequest request)
    {
        double? ndjson = null, text = null;
        foreach (var value in request.GetTypedHeaders().Accept ?? [])
        {
            var quality = value.Quality ?? 1;
            if (value.MediaType.Equals(NdJson, StringComparison.OrdinalIgnoreCase)) ndjson = Math.Max(ndjson ?? 0, quality);
            else if (value.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)) text = Math.Max(text ?? 0, quality);
        }
        return ndjson > 0 && ndjson >= (text ?? 0);
    }
}
