using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Parsing;

namespace Motey.Host.Tests.Parsing;

public class BlueprintParserTests
{
    [Fact]
    public void The_seed_example_blueprint_parses()
    {
        var result = BlueprintParser.Parse(Blueprints.Example);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("first_service", result.Value.ServiceName);
        Assert.Equal("master", result.Value.NodeType);
        var image = Assert.Single(result.Value.Images);
        Assert.Equal("alpine", image.Name);
        Assert.Equal("docker", image.Engine);
        Assert.Equal(["alpine"], image.Capabilities);
        Assert.Equal("", image.Id);
        Assert.Null(image.Node);
        Assert.Equal(ImageState.Initial, image.State);
    }

    [Fact]
    public void Parameters_become_json_with_port_numbers_as_numbers_and_port_names_as_keys()
    {
        var image = BlueprintParser.Parse(Blueprints.Example).Value!.Images[0];

        Assert.Equal(["ports", "name"], image.Parameters.Keys);
        var port = image.Parameters["ports"].GetProperty("80/tcp");
        Assert.Equal(JsonValueKind.Number, port.ValueKind);
        Assert.Equal(8080, port.GetInt32());
        Assert.Equal("alpine_from_motey", image.Parameters["name"].GetString());
    }

    [Fact]
    public void A_parsed_image_serializes_with_its_parameters_intact()
    {
        var image = BlueprintParser.Parse(Blueprints.Example).Value!.Images[0];

        var json = JsonSerializer.Serialize(image);

        Assert.Contains("\"parameters\":{\"ports\":{\"80/tcp\":8080},\"name\":\"alpine_from_motey\"}", json);
    }

    [Fact]
    public void Node_type_and_capabilities_and_parameters_are_optional()
    {
        var result = BlueprintParser.Parse("service_name: s\nimages:\n- name: alpine\n  engine: docker\n");

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Null(result.Value.NodeType);
        Assert.Empty(result.Value.Images[0].Parameters);
        Assert.Empty(result.Value.Images[0].Capabilities);
    }

    [Fact]
    public void Null_parameter_values_are_kept_as_json_null()
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, parameters: {command: ~}"));

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(JsonValueKind.Null, result.Value.Images[0].Parameters["command"].ValueKind);
    }

    [Fact]
    public void Missing_images_is_reported_with_its_path()
    {
        var error = Assert.Single(BlueprintParser.Parse("service_name: s\n").Errors);

        Assert.Equal("images", error.Where);
        Assert.Contains("required key 'images' is missing", error.Message);
    }

    [Fact]
    public void Empty_images_is_reported()
    {
        var error = Assert.Single(BlueprintParser.Parse("service_name: s\nimages: []\n").Errors);

        Assert.Equal("images", error.Where);
        Assert.StartsWith("must list at least one image", error.Message);
        Assert.EndsWith("(line 2, column 9)", error.Message);
    }

    [Fact]
    public void A_duplicate_capability_is_reported_with_its_index()
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, capabilities: [gpu, arm, gpu]"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("images[0].capabilities[2]", error.Where);
        Assert.StartsWith("duplicate capability 'gpu', already at index 0", error.Message);
    }

    [Fact]
    public void Empty_capabilities_are_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, capabilities: []")).Errors);

        Assert.Equal("images[0].capabilities", error.Where);
    }

    [Fact]
    public void A_wrong_type_says_what_was_expected_and_what_was_found()
    {
        var yaml = "service_name: s\nimages:\n- name: [alpine]\n  engine: docker\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("images[0].name", error.Where);
        Assert.Equal("expected a string, found a list (line 3, column 9)", error.Message);
    }

    [Theory]
    [InlineData("service_name: 42\nimages: [{name: a, engine: docker}]", "service_name", "expected a string, found a number")]
    [InlineData("service_name: s\nimages: {name: a}", "images", "expected a list, found a mapping")]
    [InlineData("service_name: s\nimages: [alpine]", "images[0]", "expected a mapping, found a string")]
    [InlineData("service_name: s\nimages: [{name: a, engine: docker, parameters: [1]}]", "images[0].parameters", "expected a mapping, found a list")]
    [InlineData("service_name: s\nimages: [{name: a, engine: docker, capabilities: gpu}]", "images[0].capabilities", "expected a list, found a string")]
    [InlineData("service_name: s\nimages: [{name: a, engine: docker, capabilities: [true]}]", "images[0].capabilities[0]", "expected a string, found a boolean")]
    [InlineData("service_name: s\nnode_type: 3\nimages: [{name: a, engine: docker}]", "node_type", "expected a string, found a number")]
    [InlineData("service_name:\nimages: [{name: a, engine: docker}]", "service_name", "expected a string, found null")]
    [InlineData("[service_name, images]", "(root)", "expected a mapping with service_name and images, found a list")]
    public void Wrong_types_are_reported_with_path_and_both_types(string yaml, string where, string message)
    {
        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal(where, error.Where);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void A_misspelt_key_is_reported_as_unknown()
    {
        var result = BlueprintParser.Parse("service_name: s\nimagse: [{name: a, engine: docker}]\n");

        Assert.Contains(result.Errors, e => e is { Where: "imagse" } && e.Message.StartsWith("unknown key 'imagse'") && e.Message.EndsWith("(line 2, column 1)"));
        Assert.Contains(result.Errors, e => e.Where == "images");
    }

    [Theory]
    [InlineData("service_nam", "service_name")]
    [InlineData("image", "images")]
    [InlineData("Images", "images")]
    [InlineData("node_typ", "node_type")]
    [InlineData("nodetype", "node_type")]
    [InlineData("service-name", "service_name")]
    [InlineData("servcie_nmae", "service_name")]
    public void A_top_level_key_one_or_two_edits_from_a_known_one_is_refused_with_did_you_mean(string typo, string meant)
    {
        var result = BlueprintParser.Parse($"service_name: s\nimages: [{{name: a, engine: docker}}]\n{typo}: x\n", out var ignored);

        var error = Assert.Single(result.Errors);
        Assert.Equal(typo, error.Where);
        Assert.Equal($"unknown key '{typo}'; did you mean '{meant}'? (line 3, column 1)", error.Message);
        Assert.Empty(ignored);
    }

    [Fact]
    public void Other_top_level_keys_are_accepted_and_ignored_with_their_lines()
    {
        const string Yaml = """
            version: 2
            service_name: s
            description: {text: runs a, owner: [me]}
            images:
            - {name: a, engine: docker}
            author: someone
            """;

        var result = BlueprintParser.Parse(Yaml, out var ignored);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("s", result.Value.ServiceName);
        Assert.Single(result.Value.Images);
        Assert.Equal([new IgnoredKey("version", 1), new IgnoredKey("description", 3), new IgnoredKey("author", 6)], ignored);
        Assert.Equal("'version' (line 1), 'description' (line 3), 'author' (line 6)", IgnoredKey.Describe(ignored));
    }

    [Fact]
    public void Many_ignored_keys_are_described_in_one_short_line()
    {
        var yaml = "service_name: s\nimages: [{name: a, engine: docker}]\n" + string.Concat(Enumerable.Range(0, 4000).Select(i => $"k{i}: 1\n"));

        var result = BlueprintParser.Parse(yaml, out var ignored);

        Assert.True(result.Ok);
        Assert.Equal(4000, ignored.Count);
        Assert.EndsWith("'k9' (line 12) and 3990 more", IgnoredKey.Describe(ignored));
    }

    [Fact]
    public void Keys_inside_an_image_stay_strict_even_far_from_any_known_key()
    {
        var error = Assert.Single(BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, description: x")).Errors);

        Assert.Equal("images[0].description", error.Where);
        Assert.StartsWith("unknown key 'description'; expected name, engine, parameters, capabilities", error.Message);
    }

    [Fact]
    public void An_unknown_key_in_an_image_is_reported()
    {
        var error = Assert.Single(BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, capability: [x]")).Errors);

        Assert.Equal("images[0].capability", error.Where);
    }

    [Fact]
    public void Every_violation_is_reported_not_just_the_first()
    {
        var yaml = "node_type: [x]\nimages:\n- {engine: Docker, colour: red}\n- 7\n";

        var wheres = BlueprintParser.Parse(yaml).Errors.Select(e => e.Where).ToList();

        Assert.Equal(["service_name", "node_type", "images[0].colour", "images[0].name", "images[0].engine", "images[1]"], wheres);
    }

    [Fact]
    public void Two_identical_images_are_reported_naming_both_indexes()
    {
        var yaml = "service_name: s\nimages:\n- {name: a, engine: docker}\n- {name: b, engine: docker}\n- {engine: docker, name: a}\n";

        var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);

        Assert.Equal("images[2]", error.Where);
        Assert.StartsWith("is the same image as images[0]", error.Message);
    }

    [Theory]
    [InlineData("docker")]
    [InlineData("process")]
    [InlineData("my-val_2.0")]
    public void Lower_case_engine_names_are_accepted(string engine) =>
        Assert.True(BlueprintParser.Parse(Blueprints.WithImage($"name: a, engine: {engine}")).Ok);

    [Theory]
    [InlineData("Docker")]
    [InlineData("-docker")]
    [InlineData("'docker '")]
    [InlineData("'a/b'")]
    public void Engine_names_that_no_val_type_could_have_are_refused(string engine)
    {
        var error = Assert.Single(BlueprintParser.Parse(Blueprints.WithImage($"name: a, engine: {engine}")).Errors);

        Assert.Equal("images[0].engine", error.Where);
        Assert.Contains("is not an engine name", error.Message);
    }

    [Fact]
    public void A_blank_name_is_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse(Blueprints.WithImage("name: '  ', engine: docker")).Errors);

        Assert.Equal("images[0].name", error.Where);
        Assert.StartsWith("must not be empty", error.Message);
    }

    [Fact]
    public void A_service_name_longer_than_256_characters_is_refused()
    {
        var error = Assert.Single(BlueprintParser.Parse($"service_name: {new string('s', 257)}\nimages: [{{name: a, engine: docker}}]").Errors);

        Assert.Equal("service_name", error.Where);
        Assert.StartsWith("is 257 characters long", error.Message);
    }

    [Fact]
    public void An_empty_document_is_the_empty_blueprint()
    {
        foreach (var yaml in new[] { "", "   \n", "# only a comment\n", "---\n" })
        {
            var error = Assert.Single(BlueprintParser.Parse(yaml).Errors);
            Assert.Equal("the blueprint is empty", error.Message);
        }
    }

    [Fact]
    public void Malformed_yaml_gives_line_and_column()
    {
        var error = Assert.Single(BlueprintParser.Parse("service_name: s\nimages: [{name: a, engine: docker}\n").Errors);

        Assert.Matches(@"^line \d+, column \d+$", error.Where);
        Assert.Contains("did not find expected", error.Message);
    }

    [Fact]
    public void A_duplicate_key_is_reported_with_both_positions()
    {
        var error = Assert.Single(BlueprintParser.Parse("service_name: a\nservice_name: b\nimages: [{name: a, engine: docker}]\n").Errors);

        Assert.Equal("service_name", error.Where);
        Assert.Equal("duplicate key 'service_name', first given at line 1, column 1 (line 2, column 1)", error.Message);
    }

    [Fact]
    public void Images_given_through_an_alias_are_full_copies()
    {
        var yaml = "service_name: s\nimages:\n- &base {name: a, engine: docker, parameters: {ports: {80/tcp: 8080}}}\n- {name: b, engine: docker, parameters: *base}\n";

        var result = BlueprintParser.Parse(yaml);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("a", result.Value.Images[1].Parameters["name"].GetString());
    }
}
