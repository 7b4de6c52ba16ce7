using System.Text.Json;
using Motey.Host.Parsing;

namespace Motey.Host.Tests.Parsing;

/// <summary>Plain scalars are typed by the YAML 1.2 core schema; quoted ones are always strings.</summary>
public class YamlScalarTests
{
    private static JsonElement Parameter(string value)
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage($"name: a, engine: docker, parameters: {{x: {value}}}"));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Value.Images[0].Parameters["x"];
    }

    [Theory]
    [InlineData("~", "null")]
    [InlineData("null", "null")]
    [InlineData("NULL", "null")]
    [InlineData("", "null")]
    [InlineData("true", "true")]
    [InlineData("False", "false")]
    [InlineData("8080", "8080")]
    [InlineData("-17", "-17")]
    [InlineData("+17", "17")]
    [InlineData("0755", "755")]
    [InlineData("0o17", "15")]
    [InlineData("0x1F", "31")]
    [InlineData("0xFFFFFFFFFFFFFFFF", "18446744073709551615")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    [InlineData("1.5", "1.5")]
    [InlineData("-.5e3", "-500")]
    [InlineData("1e3", "1000")]
    public void Plain_scalars_follow_the_core_schema(string yaml, string json) =>
        Assert.Equal(json, Parameter(yaml).GetRawText());

    [Theory]
    [InlineData("yes")]
    [InlineData("on")]
    [InlineData("1_000")]
    [InlineData("0b101")]
    [InlineData("2024-01-01")]
    [InlineData("80/tcp")]
    [InlineData("1.2.3")]
    public void Yaml_1_1_forms_stay_strings(string yaml) =>
        Assert.Equal(yaml, Parameter(yaml).GetString());

    [Theory]
    [InlineData("'8080'", "8080")]
    [InlineData("\"true\"", "true")]
    [InlineData("'~'", "~")]
    [InlineData("''", "")]
    public void Quoted_scalars_are_always_strings(string yaml, string text) =>
        Assert.Equal(text, Parameter(yaml).GetString());

    [Fact]
    public void A_block_scalar_is_a_string()
    {
        var result = BlueprintParser.Parse("service_name: s\nimages:\n- name: a\n  engine: docker\n  parameters:\n    x: |\n      123\n");

        Assert.Equal("123\n", result.Value!.Images[0].Parameters["x"].GetString());
    }

    [Theory]
    [InlineData(".inf")]
    [InlineData("-.Inf")]
    [InlineData(".nan")]
    [InlineData("1e999")]
    public void Numbers_json_cannot_hold_are_refused(string yaml)
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage($"name: a, engine: docker, parameters: {{x: {yaml}}}"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("images[0].parameters.x", error.Where);
    }

    [Fact]
    public void A_quoted_infinity_is_a_string() => Assert.Equal(".inf", Parameter("'.inf'").GetString());

    [Fact]
    public void A_hex_integer_beyond_64_bits_is_refused()
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, parameters: {x: 0x1FFFFFFFFFFFFFFFF}"));

        Assert.StartsWith("'0x1FFFFFFFFFFFFFFFF' does not fit in 64 bits", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void Keys_are_the_text_they_were_written_as()
    {
        var result = BlueprintParser.Parse(Blueprints.WithImage("name: a, engine: docker, parameters: {8080: a, 080: b, true: c, ~: d, .inf: e}"));

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(["8080", "080", "true", "~", ".inf"], result.Value.Images[0].Parameters.Keys);
    }
}
