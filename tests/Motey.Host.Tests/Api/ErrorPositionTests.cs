using System.Net;
using System.Text;
using System.Text.Json;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Api;

/// <summary>
/// The problem answer of an invalid input gives each error's place as data too: <c>line</c> and <c>column</c> (1-based) in
/// its entry of <c>errors</c> when the place is known, the keys left out when it is not; the texts stay as they were.
/// </summary>
public sealed class ErrorPositionTests : NodeTest
{
    [Fact]
    public async Task A_yaml_syntax_error_gives_the_line_and_column_its_where_names()
    {
        // The flow sequence opened on line 4 is never closed: the parser stops at the end of the input, line 5 column 1.
        var error = await FirstErrorAsync(await Node.PostBlueprintAsync("service_name: demo\nimages:\n- name: a\n  engine: [simulated\n"));

        Assert.Equal("line 5, column 1", error.GetProperty("where").GetString());
        Assert.Equal((5, 1), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()));
    }

    [Fact]
    public async Task A_missing_engine_gives_the_line_and_column_of_its_image()
    {
        // images[0] starts at "name" on line 3, column 3 (after "- ").
        var error = await FirstErrorAsync(await Node.PostBlueprintAsync("service_name: demo\nimages:\n- name: a\n"));

        Assert.Equal("images[0].engine", error.GetProperty("where").GetString());
        Assert.Equal("required key 'engine' is missing (line 3, column 3)", error.GetProperty("message").GetString());
        Assert.Equal((3, 3), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()));
    }

    [Fact]
    public async Task A_repeated_capability_gives_the_place_of_the_second_one()
    {
        var error = await FirstErrorAsync(await Node.PostBlueprintAsync(
            "service_name: demo\nimages:\n- name: a\n  engine: simulated\n  capabilities: [gpu, gpu]\n"));

        Assert.Equal("images[0].capabilities[1]", error.GetProperty("where").GetString());
        // Line 5 is "  capabilities: [gpu, gpu]": the second gpu starts at column 23.
        Assert.Equal((5, 23), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()));
    }

    [Fact]
    public async Task An_error_without_a_known_place_has_no_line_or_column()
    {
        // The restart policy is checked on the parsed blueprint, where the YAML's positions are no longer known.
        var error = await FirstErrorAsync(await Node.PostBlueprintAsync(
            "service_name: demo\nimages:\n- name: a\n  engine: simulated\n  parameters: {restart_policy: sometimes}\n"));

        Assert.Equal("images[0].parameters.restart_policy", error.GetProperty("where").GetString());
        Assert.False(error.TryGetProperty("line", out _));
        Assert.False(error.TryGetProperty("column", out _));
    }

    [Fact]
    public async Task A_json_syntax_error_in_a_capability_list_gives_its_line_and_column()
    {
        var response = await Node.Client.PutAsync("/v1/capabilities",
            new StringContent("[\n  {\"capability\": \"gpu\", \"capability_type\": hardware}\n]", Encoding.UTF8, "application/json"));

        // The unquoted hardware starts at column 44 of line 2.
        var error = await FirstErrorAsync(response);
        Assert.Equal("line 2, column 44", error.GetProperty("where").GetString());
        Assert.Equal((2, 44), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()));
    }

    private static async Task<JsonElement> FirstErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("errors")[0].Clone();
    }
}
