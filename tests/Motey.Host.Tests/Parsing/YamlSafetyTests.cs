using System.Text;
using Motey.Host.Parsing;

namespace Motey.Host.Tests.Parsing;

public class YamlSafetyTests
{
    [Fact]
    public void A_python_object_tag_is_refused_naming_the_tag_and_its_position()
    {
        var yaml = "service_name: s\nimages:\n- name: !!python/object/apply:os.system [\"rm -rf /\"]\n  engine: docker\n";

        var result = BlueprintParser.Parse(yaml);

        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Where == "images[0].name"
            && e.Message.StartsWith("tag !!python/object/apply:os.system is not allowed")
            && e.Message.EndsWith("(line 3, column 9)"));
    }

    [Theory]
    [InlineData("!local x")]
    [InlineData("!<tag:example.com,2000:app/thing> x")]
    [InlineData("!!binary aGVsbG8=")]
    [InlineData("!!set {a, b}")]
    public void Tags_outside_the_core_schema_are_refused(string value)
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage($"name: a, engine: docker, parameters: {{x: {value}}}"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("images[0].parameters.x", error.Where);
        Assert.Contains("is not allowed", error.Message);
    }

    [Fact]
    public void A_tag_declared_with_a_tag_directive_is_refused()
    {
        var yaml = "%TAG !py! tag:yaml.org,2002:python/object:\n---\nservice_name: !py!os.system x\nimages: [{name: a, engine: docker}]\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("service_name", error.Where);
        Assert.StartsWith("tag !!python/object:os.system is not allowed", error.Message);
    }

    [Fact]
    public void Core_schema_tags_are_honoured_as_plain_data()
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage("name: !!str 8080, engine: docker, parameters: !!map {a: !!int \"12\", b: !!str true}"));

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var image = result.Value.Images[0];
        Assert.Equal("8080", image.Name);
        Assert.Equal(12, image.Parameters["a"].GetInt32());
        Assert.Equal("true", image.Parameters["b"].GetString());
    }

    [Fact]
    public void A_core_tag_that_does_not_fit_its_value_is_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, parameters: {a: !!int twelve}")).Errors);

        Assert.StartsWith("'twelve' is not a valid !!int", error.Message);
    }

    [Fact]
    public void An_alias_bomb_is_refused_without_expanding_it()
    {
        var bomb = new StringBuilder("service_name: s\nimages: [{name: a, engine: docker}]\nbomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 'b'; level <= 'j'; level++)
        {
            var previous = (char)(level - 1);
            bomb.Append($"  {level}: &{level} [{string.Join(", ", Enumerable.Repeat($"*{previous}", 9))}]\n");
        }
        var yaml = bomb.ToString();
        BlueprintParser.Parse(yaml); // warm up, so the measure below is the parse and not the JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = BlueprintParser.Parse(yaml);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var error = Assert.Single(result.Errors);
        Assert.Contains("more than 10000 nodes once aliases are expanded", error.Message);
        Assert.Matches(@"^line \d+, column \d+$", error.Where);
        // Fully expanded this is 9^10 strings; refusing it copies at most the 10000 allowed nodes (about 0.7 MB).
        Assert.True(allocated < 8_000_000, $"refusing the bomb allocated {allocated} bytes");
    }

    [Fact]
    public void Aliases_within_the_node_limit_are_expanded()
    {
        // Block style: YamlDotNet 18 cannot read an anchor on a value inside a flow mapping.
        var result = BlueprintParser.Parse("service_name: s\nimages:\n- name: &n alpine\n  engine: docker\n  capabilities: [*n]\n");

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(["alpine"], result.Value.Images[0].Capabilities);
    }

    [Fact]
    public void An_alias_to_a_node_that_contains_it_is_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse("a: &x [1, *x]\n").Errors);

        Assert.Equal("alias *x refers to a node that contains it", error.Message);
        Assert.Equal("line 1, column 11", error.Where);
    }

    [Fact]
    public void An_alias_without_an_anchor_is_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse("a: *nowhere\n").Errors);

        Assert.Equal("alias *nowhere has no anchor &nowhere before it", error.Message);
    }

    [Fact]
    public void Nesting_deeper_than_64_levels_is_refused()
    {
        var yaml = "service_name: s\nimages: [{name: a, engine: docker, parameters: {deep: "
            + new string('[', 70) + new string(']', 70) + "}}]\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("the document nests deeper than 64 levels", error.Message);
    }

    [Fact]
    public void Nesting_of_exactly_64_levels_is_accepted()
    {
        // root mapping, images, the image, parameters: 4 levels, then 60 more.
        var yaml = "service_name: s\nimages: [{name: a, engine: docker, parameters: {deep: "
            + new string('[', 60) + new string(']', 60) + "}}]\n";

        var result = BlueprintParser.Parse(yaml);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
    }

    [Fact]
    public void An_alias_that_would_nest_too_deep_is_refused()
    {
        var deep = new string('[', 40) + new string(']', 40);
        var yaml = $"a: &deep {deep}\nb: {new string('[', 30)}*deep{new string(']', 30)}\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("the document nests deeper than 64 levels", error.Message);
    }

    [Fact]
    public void A_hundred_thousand_open_brackets_are_refused_at_the_depth_limit()
    {
        var error = Assert.Single(BlueprintParser.Parse(new string('[', 100_000)).Errors);

        Assert.Equal("the document nests deeper than 64 levels", error.Message);
    }

    [Fact]
    public void Two_documents_are_refused()
    {
        var yaml = Blueprints.Example + "\n---\nservice_name: other\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("the input holds more than one YAML document; send exactly one", error.Message);
        Assert.Equal("line 8, column 1", error.Where);
    }

    [Fact]
    public void A_document_end_marker_alone_is_fine()
    {
        Assert.True(BlueprintParser.Parse(Blueprints.Example + "\n...\n").Ok);
    }

    [Theory]
    [InlineData('\0', "U+0000")]
    [InlineData('\u0001', "U+0001")]
    [InlineData('\u001B', "U+001B")]
    [InlineData('\u007F', "U+007F")]
    [InlineData('\uFFFE', "U+FFFE")]
    [InlineData('\uD800', "U+D800")]
    public void Characters_yaml_forbids_are_an_error_with_their_position(char forbidden, string name)
    {
        var yaml = "service_name: s\nimages: [{name: a" + forbidden + "b, engine: docker}]\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("line 2, column 18", error.Where);
        Assert.Equal($"character {name} is not allowed in YAML", error.Message);
    }

    [Fact]
    public void Crlf_line_breaks_and_characters_beyond_the_basic_plane_are_fine()
    {
        var result = BlueprintParser.Parse("service_name: \"s \U0001F680\"\r\nimages: [{name: a, engine: docker}]\r\n");

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("s \U0001F680", result.Value.ServiceName);
    }

    [Fact]
    public void A_name_with_a_control_character_is_refused_so_it_cannot_forge_log_lines()
    {
        var error = Assert.Single(BlueprintParser.Parse("service_name: \"x\\n[02:30:00 FTL] forged\"\nimages: [{name: a, engine: docker}]\n").Errors);

        Assert.Equal("service_name", error.Where);
        Assert.StartsWith("contains control character U+000A", error.Message);
    }

    [Fact]
    public void A_collection_as_a_mapping_key_is_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse("[a, b]: 1\n").Errors);

        Assert.Equal("a mapping key must be a plain value, not a mapping or a list", error.Message);
        Assert.Equal("line 1, column 1", error.Where);
    }

    [Fact]
    public void An_alias_to_a_scalar_can_be_a_key()
    {
        var error = Assert.Single(BlueprintParser.Parse("&k service_name: a\n*k : b\n").Errors, e => e.Message.StartsWith("duplicate"));

        Assert.Equal("service_name", error.Where);
    }

    [Theory]
    [InlineData("x: &m {a: 1}\n*m : 2\n", "a mapping key must be a plain value, not a mapping or a list")]
    [InlineData("*nope : 2\n", "alias *nope has no anchor &nope before it")]
    public void An_alias_key_must_name_an_earlier_scalar(string yaml, string message)
    {
        Assert.Equal(message, Assert.Single(BlueprintParser.Parse(yaml).Errors).Message);
    }

    [Fact]
    public void A_merge_key_is_refused_rather_than_passed_on()
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, parameters: {<<: {x: 1}}"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("images[0].parameters['<<']", error.Where);
        Assert.StartsWith("merge keys (<<) are not supported", error.Message);
    }

    [Theory]
    [InlineData("a: {porting\nimages: s: 1}")]
    [InlineData("a: {p: {80/t\u0085cp: 8080}}")]
    [InlineData("\n...\na: ")]
    public void Input_that_trips_the_yaml_scanner_is_an_error_not_an_exception(string yaml)
    {
        // Found by fuzzing: YamlDotNet throws InvalidOperationException rather than a YamlException here.
        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Matches(@"^line \d+, column \d+$", error.Where);
    }
}
