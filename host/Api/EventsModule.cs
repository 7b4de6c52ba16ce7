using System.Globalization;
using System.Text;
using System.Text.Json;
using Carter;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Motey.Host.Api.OpenApi;
using Motey.Host.Core.Events;
using Motey.Host.Core.Membership;
using Motey.Host.Parsing;

namespace Motey.Host.Api;

/// <summary>/v1/events: the node's changes as Server-Sent Events (services, images, nodes, capabilities, plugins).</summary>
public sealed class EventsModule : ICarterModule
{
    /// <summary>A comment goes out this often on a quiet stream, so proxies and clients see it alive.</summary>
    internal static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>How long a dropped subscriber's stream may take to take its reset before the connection is cut.</summary>
    internal static readonly TimeSpan DroppedGrace = TimeSpan.FromSeconds(10);

    private const string EventStream = "text/event-stream";

    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/events", StreamAsync)
            .WithTags("events")
            .WithSummary("The node's changes as Server-Sent Events")
            .WithDescription("""
                Events: service, image, node, capability, plugin (and reset: read the state again). Each has an id (from 1 per agent
                start); Last-Event-ID (or ?after=N) replays the last 1024 events kept. ?service=ID keeps that service's service and
                image events; ?types=image,service keeps those types. A ': keepalive' comment every 15 s. A client more than 1024
                events behind gets a reset and the stream ends.
                """)
            .Produces<string>(StatusCodes.Status200OK, EventStream)
            .WithResponseExample(StatusCodes.Status200OK, JsonSerializer.Serialize("""
                retry: 3000
                : motey events of 127.0.0.1

                id: 7
                event: image
                data: {"service_id":"3f2a9c1e","service_name":"sleeper","index":0,"name":"sleep","engine":"process","node":"127.0.0.1","instance_id":"4121","state":2,"state_name":"RUNNING","state_message":"","generation":1,"restarts":0}


                """.Replace("\r\n", "\n", StringComparison.Ordinal)))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithResponseExample(StatusCodes.Status400BadRequest, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Invalid event query", "status": 400,
                 "detail": "types: unknown type 'pods' (known: service, image, node, capability, plugin)",
                 "errors": [{"where": "types", "message": "unknown type 'pods' (known: service, image, node, capability, plugin)"}], "error_count": 1}
                """);

    private static async Task<IResult> StreamAsync(HttpContext http, EventHub hub, NodeIdentity identity, IHostApplicationLifetime lifetime)
    {
        var query = EventQuery.Read(http.Request, out var errors);
        if (query is null) return Problems.Invalid("Invalid event query", errors);

        // Registered before anything is written: a client that has read the first comment misses nothing after it.
        using var subscription = hub.Subscribe(query.After, query.Matches);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // The stream's own rule for a client that stops reading (a reset after 1,024 events behind, cut off after
        // DroppedGrace) replaces Kestrel's minimum response rate, which aborted it without a reset once it had read
        // nothing for 5 s while events waited (a client paused, a loaded machine).
        if (http.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate) rate.MinDataRate = null;
        var response = http.Response;
        response.ContentType = EventStream;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";  // nginx and the like: pass each event on at once
        var text = new StringBuilder();
        text.Append("retry: 3000\n: motey events of ").Append(identity.Address).Append("\n\n");
        if (subscription.ResetReason is { } reason) AppendEvent(text, null, EventTypes.Reset, EventTypes.ResetData(reason));
        foreach (var kept in subscription.Replay) AppendEvent(text, kept.Id, kept.Type, kept.Data);
        try
        {
            await WriteAsync(response, text, stop.Token);
            await PumpAsync(http, response, subscription, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the client went away, or the agent stops: the response ends here
        }
        catch (IOException)
        {
            // the connection broke while writing
        }
        return Results.Empty;
    }

    /// <summary>
    /// Writes each event as it comes, a keepalive comment when there was none for <see cref="KeepAlive"/>. Once the hub
    /// dropped the subscriber, what it had queued and a reset go out; a client that does not take them within
    /// <see cref="DroppedGrace"/> is cut off.
    /// </summary>
    private static async Task PumpAsync(HttpContext http, HttpResponse response, EventSubscription subscription, CancellationToken stop)
    {
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(stop);
        // Runs on the thread that cancels (the thread pool): it must not throw, whatever the order of the disposals below.
        using var dropped = subscription.Dropped.Register(() =>
        {
            try { cut.CancelAfter(DroppedGrace); } catch (ObjectDisposedException) { /* the pump has ended */ }
        });
        var text = new StringBuilder();
        var events = subscription.Events;
        Task<bool>? waiting = null;
        try
        {
            while (true)
            {
                waiting ??= events.WaitToReadAsync(stop).AsTask();
                using (var quiet = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    var tick = Task.Delay(KeepAlive, quiet.Token);
                    if (await Task.WhenAny(waiting, tick) == tick)
                    {
                        text.Append(": keepalive\n\n");
                        await WriteAsync(response, text, cut.Token);
                        continue;
                    }
                    await quiet.CancelAsync();
                }
                var more = await waiting;
                waiting = null;
                if (!more) break;
                // What waits is sent together: one write and one flush for a burst.
                while (text.Length < 64 * 1024 && events.TryRead(out var next)) AppendEvent(text, next.Id, next.Type, next.Data);
                await WriteAsync(response, text, cut.Token);
            }
            if (!subscription.Overflowed) return;
            AppendEvent(text, null, EventTypes.Reset, EventTypes.ResetData(
                $"this stream fell more than {EventHub.BufferSize} events behind and was closed; read the state again, then reconnect"));
            await WriteAsync(response, text, cut.Token);
        }
        catch (OperationCanceledException) when (cut.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            http.Abort();  // dropped, and did not take what was left within the grace
        }
    }

    private static void AppendEvent(StringBuilder text, long? id, string type, string data)
    {
        if (id is { } n) text.Append("id: ").Append(n.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("event: ").Append(type).Append("\ndata: ").Append(data).Append("\n\n");
    }

    private static async Task WriteAsync(HttpResponse response, StringBuilder text, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        text.Clear();
        await response.Body.WriteAsync(bytes, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>The stream's query: where to resume, which service, which types.</summary>
    private sealed record EventQuery(long? After, string? Service, IReadOnlySet<string>? Types)
    {
        public bool Matches(MoteyEvent e) =>
            (Types is null || Types.Contains(e.Type)) && (Service is null || e.ServiceId == Service);

        public static EventQuery? Read(HttpRequest request, out List<InputError> errors)
        {
            errors = [];
            long? after = null;
            // The header wins: a browser's EventSource reconnects to the same URL (?after= included) with it.
            foreach (var (where, value) in new[] { ("Last-Event-ID", request.Headers["Last-Event-ID"].ToString()), ("after", request.Query["after"].ToString()) })
            {
                if (after is not null || value.Length == 0) continue;
                if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) after = n;
                else errors.Add(new InputError(where, $"'{Shorten(value)}' is not an event id (a non-negative integer)"));
            }
            string? service = request.Query["service"].ToString() is { Length: > 0 } id ? id : null;
            HashSet<string>? types = null;
            if (request.Query["types"].ToString() is { Length: > 0 } list)
            {
                types = [];
                foreach (var type in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (EventTypes.All.Contains(type)) types.Add(type);
                    else errors.Add(new InputError("types", $"unknown type '{Shorten(type)}' (known: {string.Join(", ", EventTypes.All)})"));
                }
            }
            // ?service= is about service and image events: the other types have no service.
            if (service is not null) types ??= [EventTypes.Service, EventTypes.Image];
            return errors.Count == 0 ? new EventQuery(after, service, types) : null;
        }

        private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";
    }
}
