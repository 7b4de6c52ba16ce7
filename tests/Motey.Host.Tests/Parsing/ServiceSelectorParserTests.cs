using Motey.Host.Parsing;

namespace Motey.Host.Tests.Parsing;

public class ServiceSelectorParserTests
{
    [Fact]
    public void An_id_selects_a_service()
    {
        var result = ServiceSelectorParser.Parse("id: fab3aecfa54843fa88ac0320816f5570\n");

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(new ServiceSelector("fab3aecfa54843fa88ac0320816f5570", null), result.Value);
    }

    [Fact]
    public void A_service_name_selects_a_service()
    {
        Assert.Equal(new ServiceSelector(null, "first_service"), ServiceSelectorParser.Parse("service_name: first_service").Value);
    }

    [Fact]
    public void Both_are_returned_when_both_are_given()
    {
        Assert.Equal(new ServiceSelector("ab12", "first_service"), ServiceSelectorParser.Parse("{id: ab12, service_name: first_service}").Value);
    }

    [Fact]
    public void The_whole_blueprint_is_accepted_as_the_original_accepted_it()
    {
        var result = ServiceSelectorParser.Parse(Blueprints.Example);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(new ServiceSelector(null, "first_service"), result.Value);
    }

    [Fact]
    public void A_service_as_the_api_lists_it_is_accepted()
    {
        var json = """{"id": "ab12", "service_name": "s", "images": [], "state": 2, "state_message": ""}""";

        Assert.Equal(new ServiceSelector("ab12", "s"), ServiceSelectorParser.Parse(json).Value);
    }

    [Theory]
    [InlineData("id: 0123456789", "0123456789")]
    [InlineData("id: 12e45", "12e45")]
    [InlineData("id: '0123'", "0123")]
    public void A_hex_id_that_looks_like_a_number_is_taken_as_written(string yaml, string id)
    {
        Assert.Equal(id, ServiceSelectorParser.Parse(yaml).Value!.Id);
    }

    [Fact]
    public void Neither_id_nor_service_name_is_refused()
    {
        var error = Assert.Single(ServiceSelectorParser.Parse("node_type: master\n").Errors);

        Assert.Equal("(root)", error.Where);
        Assert.StartsWith("name the service with id or service_name", error.Message);
    }

    [Fact]
    public void A_typo_of_a_key_is_refused_naming_the_key_it_is_near()
    {
        var result = ServiceSelectorParser.Parse("service_name: s\nimagse: []\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal("imagse", error.Where);
        Assert.Equal("unknown key 'imagse'; did you mean 'images'? (line 2, column 1)", error.Message);
    }

    [Fact]
    public void Other_keys_a_blueprint_may_carry_are_ignored_as_at_post()
    {
        var result = ServiceSelectorParser.Parse("version: 2\nservice_name: s\nname: x\n");

        Assert.True(result.Ok);
        Assert.Equal(new ServiceSelector(null, "s"), result.Value);
    }

    [Theory]
    [InlineData("id: [a]", "id", "expected a string, found a list")]
    [InlineData("id: ''", "id", "must not be empty")]
    [InlineData("id: true", "id", "expected a string, found a boolean")]
    [InlineData("service_name: {a: 1}", "service_name", "expected a string, found a mapping")]
    [InlineData("just text", "(root)", "expected a mapping with id or service_name, found a string")]
    public void Wrong_values_are_refused_with_their_path(string yaml, string where, string message)
    {
        var error = Assert.Single(ServiceSelectorParser.Parse(yaml).Errors);

        Assert.Equal(where, error.Where);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void An_empty_body_is_refused()
    {
        Assert.StartsWith("the body is empty", Assert.Single(ServiceSelectorParser.Parse("").Errors).Message);
    }

    [Fact]
    public void A_python_tag_is_refused_here_too()
    {
        Assert.False(ServiceSelectorParser.Parse("id: !!python/object/apply:os.system [ls]").Ok);
    }
}
