using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Prometheus;

namespace Motey.Host.Metrics;

/// <summary>
/// Counts every REST request by method, route (the endpoint's pattern, "unmatched" when none: a path a client made up
/// must not make a series of its own) and code, and observes its duration. Kept cheap: the two series of a (method,
/// route, code) are looked up once and reused, so a request costs a dictionary lookup, an increment and an observation.
/// </summary>
internal sealed class RequestMetrics(MoteyPrometheus metrics)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? RequestKey.Unmatched;
            var key = new RequestKey(Method(context.Request.Method), route, context.Response.StatusCode);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (metrics.CreatedSeries is { } series) series.Requests.Observe(key, seconds);
            else metrics.Observe(s => s.Requests.Observe(key, seconds));
        }
    }

    /// <summary>The method, or OTHER for one HTTP does not define (each would be a series of its own).</summary>
    private static string Method(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get : HttpMethods.IsPost(method) ? HttpMethods.Post : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsOptions(method) ? HttpMethods.Options : HttpMethods.IsPatch(method) ? HttpMethods.Patch : "OTHER";
}

/// <summary>What a request is counted by: its method, its route's pattern (or <see cref="Unmatched"/>) and its code.</summary>
internal readonly record struct RequestKey(string Method, string Route, int Code)
{
    public const string Unmatched = "unmatched";
}

/// <summary>The request series of <see cref="MoteySeries"/>, each (method, route, code) looked up once.</summary>
internal sealed class RequestSeries(Counter total, Histogram seconds)
{
    private readonly ConcurrentDictionary<RequestKey, (Counter.Child Count, Histogram.Child Duration)> _series = new();

    public void Observe(RequestKey key, double elapsedSeconds)
    {
        if (!_series.TryGetValue(key, out var series)) series = _series.GetOrAdd(key, Create);
        series.Count.Inc();
        series.Duration.Observe(elapsedSeconds);
    }

    private (Counter.Child, Histogram.Child) Create(RequestKey key)
    {
        var code = key.Code.ToString(CultureInfo.InvariantCulture);
        var route = ReferenceEquals(key.Route, RequestKey.Unmatched) ? RequestKey.Unmatched : "/" + key.Route.Trim('/');
        return (total.WithLabels(key.Method, route, code), seconds.WithLabels(key.Method, route, code));
    }
}
