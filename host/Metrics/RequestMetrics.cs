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
    private const string Unmatched = "unmatched";

    private readonly ConcurrentDictionary<Key, (Counter.Child Count, Histogram.Child Duration)> _series = new();

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
            var key = new Key(Method(context.Request.Method), route, context.Response.StatusCode);
            if (!_series.TryGetValue(key, out var series)) series = _series.GetOrAdd(key, Create);
            series.Count.Inc();
            series.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>The method, or OTHER for one HTTP does not define (each would be a series of its own).</summary>
    private static string Method(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get : HttpMethods.IsPost(method) ? HttpMethods.Post : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsOptions(method) ? HttpMethods.Options : HttpMethods.IsPatch(method) ? HttpMethods.Patch : "OTHER";

    private (Counter.Child, Histogram.Child) Create(Key key)
    {
        var code = key.Code.ToString(CultureInfo.InvariantCulture);
        var route = ReferenceEquals(key.Route, Unmatched) ? Unmatched : "/" + key.Route.Trim('/');
        return (metrics.RequestsTotal.WithLabels(key.Method, route, code), metrics.RequestSeconds.WithLabels(key.Method, route, code));
    }

    private readonly record struct Key(string Method, string Route, int Code);
}
