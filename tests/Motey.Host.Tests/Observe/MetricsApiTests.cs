using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Core.Model;
using Motey.Host.Metrics;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Security;
using Prometheus;

namespace Motey.Host.Tests.Observe;

/// <summary>GET /metrics read as Prometheus would, from an in-process node over real HTTP.</summary>
public sealed class MetricsApiTests : NodeTest
{
    internal static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task After_a_deploy_the_placements_requests_and_states_have_moved()
    {
        var before = await ScrapeAsync(Node.Client);
        Assert.Equal(0, before.Value("motey_placements_total", ("outcome", "local")));

        var response = await Node.PostBlueprintAsync("service_name: s\nimages:\n- name: a\n  engine: simulated\n- name: b\n  engine: simulated\n");
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        await Node.WaitForServiceAsync(service.Id, s => s.State == ServiceState.Running);
        var after = await ScrapeAsync(Node.Client);

        Assert.Equal("counter", after.Types["motey_placements_total"]);
        Assert.Equal(2, after.Value("motey_placements_total", ("outcome", "local")));
        Assert.Equal(2, after.Value("motey_placement_duration_seconds_count", ("outcome", "local")));
        Assert.Equal("histogram", after.Types["motey_placement_duration_seconds"]);
        Assert.Equal(1, after.Value("motey_http_requests_total", ("method", "POST"), ("route", "/v1/service"), ("code", "201")));
        Assert.True(after.Value("motey_http_requests_total", ("method", "GET"), ("route", "/v1/service/{id}"), ("code", "200")) >= 1);
        Assert.Equal(1, after.Value("motey_http_request_duration_seconds_count", ("method", "POST"), ("route", "/v1/service"), ("code", "201")));
        Assert.Equal(1, after.Value("motey_services", ("state", "RUNNING")));
        Assert.Equal(0, after.Value("motey_services", ("state", "INITIAL")));
        Assert.Equal(2, after.Value("motey_images", ("state", "RUNNING")));
        // A path no route has is one series, whatever the path.
        await Node.Client.GetAsync("/no/such/path");
        await Node.Client.GetAsync("/nor/this/one");
        var unmatched = await ScrapeAsync(Node.Client);
        Assert.Equal(2, unmatched.Value("motey_http_requests_total", ("route", "unmatched"), ("code", "404")));
        Assert.DoesNotContain(unmatched.Samples, s => s.Labels.Values.Any(v => v.Contains("no/such", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task What_happens_before_the_first_scrape_is_in_it_and_the_series_are_made_only_then()
    {
        await using var node = await TestNode.StartAsync();
        var prometheus = node.Services.GetRequiredService<MoteyPrometheus>();
        for (var i = 0; i < 3; i++) await node.Client.GetAsync("/v1/heartbeat");
        Assert.Null(prometheus.CreatedSeries);

        var metrics = await ScrapeAsync(node.Client);

        Assert.NotNull(prometheus.CreatedSeries);
        var heartbeat = new[] { ("method", "GET"), ("route", "/v1/heartbeat"), ("code", "204") };
        Assert.Equal(3, metrics.Value("motey_http_requests_total", heartbeat));
        Assert.Equal(3, metrics.Value("motey_http_request_duration_seconds_count", heartbeat));
        Assert.Equal(0, metrics.Value("motey_placements_total", ("outcome", "local")));
        Assert.Equal(1, metrics.Value("motey_cluster_nodes"));
    }

    [Fact]
    public async Task More_observations_than_are_kept_make_the_series_without_a_scrape_and_none_is_lost()
    {
        var prometheus = new MoteyPrometheus();
        for (var i = 0; i < MoteyPrometheus.MaxDeferred; i++) prometheus.CapabilityEvent("add", "applied");
        Assert.Null(prometheus.CreatedSeries);

        prometheus.CapabilityEvent("add", "applied");

        Assert.NotNull(prometheus.CreatedSeries);
        using var text = new MemoryStream();
        await prometheus.Registry.CollectAndExportAsTextAsync(text);
        var metrics = PrometheusText.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));
        Assert.Equal(MoteyPrometheus.MaxDeferred + 1, metrics.Value("motey_capability_events_total", ("command", "add"), ("outcome", "applied")));
    }

    [Fact]
    public async Task A_histograms_buckets_grow_to_its_count()
    {
        await Node.Client.GetAsync("/v1/capabilities");
        var metrics = await ScrapeAsync(Node.Client);
        var labels = new[] { ("method", "GET"), ("route", "/v1/capabilities"), ("code", "200") };
        var buckets = metrics.Named("motey_http_request_duration_seconds_bucket").Where(s => s.Has(labels)).ToList();
        Assert.True(buckets.Count > 5);
        Assert.Equal("+Inf", buckets[^1].Labels["le"]);
        Assert.True(buckets.Select(b => b.Value).SequenceEqual(buckets.Select(b => b.Value).Order()));
        Assert.Equal(metrics.Value("motey_http_request_duration_seconds_count", labels), buckets[^1].Value);
    }

    [Fact]
    public async Task Process_plugin_node_and_subscriber_series_are_there()
    {
        await using var stream = await EventStreamClient.OpenAsync(Node.Client, "/v1/events");
        var metrics = await ScrapeAsync(Node.Client);
        Assert.True(metrics.Value("process_cpu_seconds_total") > 0);
        Assert.Equal("counter", metrics.Types["process_cpu_seconds_total"]);
        Assert.True(metrics.Value("process_resident_memory_bytes") > 10_000_000);
        Assert.True(metrics.Value("process_open_fds") > 3);
        Assert.True(metrics.Value("process_max_fds") >= metrics.Value("process_open_fds"));
        Assert.InRange(metrics.Value("process_start_time_seconds"), DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(2, metrics.Value("motey_plugins", ("state", "Active")));
        Assert.Equal(1, metrics.Value("motey_engine_available", ("engine", "simulated"), ("plugin", TestNode.Simulated)));
        Assert.Equal(1, metrics.Value("motey_cluster_nodes"));
        Assert.Equal(1, metrics.Value("motey_event_subscribers"));
        // Lean: none of prometheus-net's default adapters (EventCounters, Meters) in the answer.
        Assert.DoesNotContain(metrics.Samples, s => s.Name.StartsWith("microsoft_", StringComparison.Ordinal) || s.Name.StartsWith("system_runtime", StringComparison.Ordinal));
        Assert.All(metrics.Types.Keys, name => Assert.True(metrics.Help.ContainsKey(name), $"{name} has no HELP"));
    }

    [Fact]
    public async Task Under_tokens_a_read_token_may_scrape_and_no_token_may_not()
    {
        await using var secured = await SecuredNode.StartAsync();
        using var reader = secured.Client(SecuredNode.ReadToken);
        var metrics = await ScrapeAsync(reader);
        Assert.True(metrics.Value("process_resident_memory_bytes") > 0);
        using var anonymous = secured.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/events")).StatusCode);
        await using var events = await EventStreamClient.OpenAsync(reader, "/v1/events");
        // The refusals are counted too.
        Assert.Equal(1, (await ScrapeAsync(reader)).Value("motey_http_requests_total", ("route", "/metrics"), ("code", "401")));
    }
}
