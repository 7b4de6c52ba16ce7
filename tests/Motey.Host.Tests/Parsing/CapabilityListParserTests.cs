using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Parsing;

namespace Motey.Host.Tests.Parsing;

public class CapabilityListParserTests
{
    [Fact]
    public void A_valid_list_parses()
    {
        var result = CapabilityListParser.Parse("""[{"capability": "gpu", "capability_type": "hardware"}, {"capability_type": "api", "capability": "alpine"}]""");

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal([new Capability("gpu", "hardware"), new Capability("alpine", "api")], result.Value);
    }

    [Fact]
    public void A_capability_listed_twice_is_accepted_once()
    {
        var result = CapabilityListParser.Parse("""[{"capability": "gpu", "capability_type": "hardware"}, {"capability": "gpu", "capability_type": "hardware"}]""");

        Assert.Equal([new Capability("gpu", "hardware")], result.Value);
    }

    [Fact]
    public void Malformed_json_gives_a_one_based_line_and_column()
    {
        var error = Assert.Single(CapabilityListParser.Parse("[\n  {\"capability\": \"é\", x}\n]").Errors);

        Assert.Equal("line 2, column 23", error.Where);
        Assert.DoesNotContain("LineNumber", error.Message);
    }

    [Fact]
    public void An_empty_array_is_refused()
    {
        var error = Assert.Single(CapabilityListParser.Parse("[]").Errors);

        Assert.Equal("$", error.Where);
        Assert.StartsWith("the list is empty", error.Message);
    }

    [Theory]
    [InlineData("""{"capability": "gpu", "capability_type": "hardware"}""", "expected a list of capabilities, found an object")]
    [InlineData("\"gpu\"", "expected a list of capabilities, found a string")]
    [InlineData("null", "expected a list of capabilities, found null")]
    [InlineData("", "the body is empty; expected a JSON list of capabilities")]
    public void Anything_but_an_array_is_refused(string json, string message)
    {
        var error = Assert.Single(CapabilityListParser.Parse(json).Errors);

        Assert.Equal("$", error.Where);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void An_extra_property_is_refused_by_name()
    {
        var error = Assert.Single(CapabilityListParser.Parse("""[{"capability": "gpu", "capability_type": "hardware", "count": 2}]""").Errors);

        Assert.Equal("$[0].count", error.Where);
        Assert.StartsWith("unknown property 'count'", error.Message);
    }

    [Theory]
    [InlineData("""[{"capability": 1, "capability_type": "hardware"}]""", "$[0].capability", "expected a string, found a number")]
    [InlineData("""[{"capability": "gpu", "capability_type": null}]""", "$[0].capability_type", "expected a string, found null")]
    [InlineData("""[{"capability": "gpu", "capability_type": ""}]""", "$[0].capability_type", "must not be empty")]
    [InlineData("""[{"capability": "gpu"}]""", "$[0].capability_type", "required property 'capability_type' is missing")]
    [InlineData("""[{"capability": "a", "capability_type": "b"}, "gpu"]""", "$[1]", "expected an object with capability and capability_type, found a string")]
    [InlineData("""[{"capability": "a", "capability": "b", "capability_type": "c"}]""", "$[0].capability", "property 'capability' is given twice")]
    [InlineData("""[{"capability": "a", "capability_type": "c", "odd key": 1}]""", "$[0]['odd key']", "unknown property 'odd key'")]
    public void Wrong_entries_are_refused_with_their_json_path(string json, string where, string message)
    {
        var error = Assert.Single(CapabilityListParser.Parse(json).Errors);

        Assert.Equal(where, error.Where);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Every_wrong_entry_is_reported()
    {
        var result = CapabilityListParser.Parse("""[1, {"capability": "gpu", "capability_type": "hardware"}, {}]""");

        Assert.Equal(["$[0]", "$[2].capability", "$[2].capability_type"], result.Errors.Select(e => e.Where));
    }

    [Fact]
    public void A_name_longer_than_256_characters_is_refused()
    {
        var error = Assert.Single(CapabilityListParser.Parse($$"""[{"capability": "{{new string('g', 257)}}", "capability_type": "hardware"}]""").Errors);

        Assert.Equal("$[0].capability", error.Where);
    }

    [Fact]
    public void Nesting_deeper_than_16_levels_is_refused()
    {
        var error = Assert.Single(CapabilityListParser.Parse(new string('[', 20) + new string(']', 20)).Errors);

        Assert.Contains("maximum configured depth of 16", error.Message);
    }

    [Fact]
    public void An_unpaired_surrogate_is_an_error_not_an_exception()
    {
        var error = Assert.Single(CapabilityListParser.Parse("[{\"capability\": \"\uD800\", \"capability_type\": \"x\"}]").Errors);

        Assert.Equal("line 1, column 18", error.Where);
    }
}
