namespace Motey.Host.Tests.Reliability;

/// <summary>The size of the bad-input corpus, group by group: it must not shrink unnoticed.</summary>
public sealed class BadInputCorpusTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void The_corpus_holds_more_than_200_bad_inputs_across_rest_zeromq_events_and_mqtt()
    {
        var requests = PeerCorpus.Requests().ToList();
        var groups = new (string Group, int Cases)[]
        {
            ("REST blueprints (POST /v1/service)", RestCorpus.Blueprints().Count()),
            ("REST capability lists (PUT and DELETE /v1/capabilities)", RestCorpus.Capabilities().Count()),
            ("REST content types", RestCorpus.Headers().Count()),
            ("REST oversized bodies", RestCorpus.Oversized().Count()),
            ("REST service selectors (DELETE /v1/service)", RestCorpus.Selectors().Count()),
            ("REST unknown ids and methods", RestCorpus.Paths().Count()),
            ("ZeroMQ requests x 4 repliers", requests.Count(r => !r.NeedsId) * 4 + requests.Count(r => r.NeedsId) * 2),
            ("ZeroMQ DEALER and oversized requests x 4 repliers", 3 * 4),
            ("capability events", PeerCorpus.Events().Count() + 1),
            ("MQTT payloads x 3 topics", MqttBadInputTests.Garbage().Count() * 3),
            ("MQTT payloads that are not a node's address", MqttBadInputTests.NotANodeAddress().Count()),
        };
        foreach (var (group, cases) in groups) output.WriteLine($"{cases,5}  {group}");
        var total = groups.Sum(g => g.Cases);
        output.WriteLine($"{total,5}  in all");
        Assert.True(total > 200, $"the corpus holds {total} bad inputs");
        Assert.All(groups, g => Assert.True(g.Cases > 0, $"{g.Group} is empty"));
    }
}
