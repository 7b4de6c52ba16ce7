using System.Net;
using System.Text.Json;
using Motey.Host.Parsing;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Reliability;

/// <summary>One node with a service and a capability of its own, shared by the REST groups of the bad-input corpus.</summary>
public sealed class CorpusNode : IAsyncLifetime
{
    private readonly TestFolder _folder = new();

    internal TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await NodeState.StartPopulatedNodeAsync(_folder, new Dictionary<string, string>
    {
        ["WEBSERVER:max_body_bytes"] = RestCorpus.MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary>
/// The REST part of the bad-input corpus (see <see cref="RestCorpus"/>): every request is refused with its status and a
/// problem whose detail says what and where, the node stays healthy, and it shows exactly what it showed before.
/// Each group reports all its failing cases at once.
/// </summary>
public sealed class RestBadInputTests(CorpusNode fixture) : IClassFixture<CorpusNode>
{
    /// <summary>A clear error is a short one: no bad request may make the node answer more than this.</summary>
    private const int MaxAnswerBytes = 64 * 1024;

    private readonly HttpClient _client = fixture.Node.Client;

    [Fact]
    public void The_base_blueprint_of_the_mutations_is_valid_so_each_mutation_is_what_breaks_it() =>
        Assert.True(BlueprintParser.Parse(RestCorpus.Blueprint()).Ok);

    [Fact]
    public Task Bad_blueprints_are_refused_with_400_naming_what_and_where() => RunAsync(RestCorpus.Blueprints(), minimum: 200);

    [Fact]
    public Task Bad_capability_lists_are_refused_with_400_by_put_and_delete() => RunAsync(RestCorpus.Capabilities(), minimum: 100);

    [Fact]
    public Task Wrong_missing_and_odd_content_types_are_refused_with_415() => RunAsync(RestCorpus.Headers(), minimum: 50);

    [Fact]
    public Task Bodies_over_max_body_bytes_are_refused_with_413_with_or_without_a_length() => RunAsync(RestCorpus.Oversized(), minimum: 10);

    [Fact]
    public Task Bad_service_selectors_are_refused_and_unknown_ones_answer_404() => RunAsync(RestCorpus.Selectors(), minimum: 25);

    [Fact]
    public Task Unknown_ids_and_methods_answer_404_and_405() => RunAsync(RestCorpus.Paths(), minimum: 9);

    private async Task RunAsync(IEnumerable<RestCase> group, int minimum)
    {
        var cases = group.ToList();
        Assert.True(cases.Count >= minimum, $"the group holds {cases.Count} cases, fewer than {minimum}");
        Assert.Equal(cases.Count, cases.Select(c => c.Name).Distinct().Count());
        var before = await NodeState.ReadSettledAsync(_client);
        var failures = new List<string>();
        foreach (var @case in cases)
        {
            if (await CheckAsync(@case) is { } failure) failures.Add($"{@case.Name}: {failure}");
            // Cheap enough to ask after every case, and it names the case that made the node unhealthy.
            var heartbeat = await _client.GetAsync("/v1/heartbeat");
            if (heartbeat.StatusCode != HttpStatusCode.NoContent)
                failures.Add($"{@case.Name}: the heartbeat answers {(int)heartbeat.StatusCode} afterwards");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases failed:\n" + string.Join("\n", failures));
        await NodeState.AssertHealthyAndUnchangedAsync(_client, before, $"{cases.Count} bad requests");
    }

    /// <summary>Null when the answer is the one expected, else what was wrong with it.</summary>
    private async Task<string?> CheckAsync(RestCase @case)
    {
        HttpResponseMessage response;
        try
        {
            using var request = @case.ToRequest();
            response = await _client.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            return $"no answer ({e.Message})";
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != @case.Status)
                return $"expected {(int)@case.Status}, got {(int)response.StatusCode}: {Preview(body)}";
            if (body.Length > MaxAnswerBytes)
                return $"the answer is {body.Length} characters long (a request of {@case.Body?.Length ?? 0} bytes); at most {MaxAnswerBytes} make a clear error";
            if (@case.Fragment.Length == 0) return null;
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                return $"expected a problem (application/problem+json), got {response.Content.Headers.ContentType}: {Preview(body)}";
            string? detail;
            try
            {
                using var problem = JsonDocument.Parse(body);
                detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
            }
            catch (JsonException)
            {
                return $"the problem is not JSON: {Preview(body)}";
            }
            if (string.IsNullOrWhiteSpace(detail)) return $"the problem has no detail: {Preview(body)}";
            return detail.Contains(@case.Fragment, StringComparison.OrdinalIgnoreCase)
                ? null
                : $"the detail does not mention '{@case.Fragment}': {Preview(detail)}";
        }
    }

    private static string Preview(string text) => text.Length <= 300 ? text : text[..300] + $"... ({text.Length} characters)";
}
