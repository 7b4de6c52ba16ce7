using static Motey.Val.Sample.Tests.TestSupport;

namespace Motey.Val.Sample.Tests;

public sealed class SampleParametersTests
{
    [Fact]
    public void Known_parameters_of_the_right_kind_are_accepted()
    {
        var problems = new SampleVal().ValidateParameters(Parameters(
            """{"command": ["serve", "--port", 8080, true], "environment": {"LEVEL": "debug", "WORKERS": 4}}"""));

        Assert.Empty(problems);
    }

    [Fact]
    public void No_parameters_at_all_are_fine()
    {
        Assert.Empty(new SampleVal().ValidateParameters(Parameters()));
    }

    [Fact]
    public void An_unknown_parameter_is_refused_naming_it_and_the_known_ones()
    {
        var problem = Assert.Single(new SampleVal().ValidateParameters(Parameters("""{"comand": ["serve"]}""")));

        Assert.Equal("parameters.comand: unknown parameter (known: command, environment)", problem);
    }

    [Theory]
    [InlineData("""{"command": "serve"}""", "parameters.command: expected a list of strings, got string")]
    [InlineData("""{"command": ["serve", {"port": 1}]}""", "parameters.command[1]: expected a string, number or boolean, got object")]
    [InlineData("""{"environment": ["LEVEL=debug"]}""", "parameters.environment: expected a map of variable names to strings, got list")]
    [InlineData("""{"environment": {"LEVEL": null}}""", "parameters.environment.LEVEL: expected a string, number or boolean, got null")]
    [InlineData("""{"environment": {"A=B": "c"}}""", "parameters.environment: 'A=B' is not a valid variable name")]
    public void A_parameter_of_the_wrong_kind_is_refused_saying_where_and_what(string json, string expected)
    {
        Assert.Equal([expected], new SampleVal().ValidateParameters(Parameters(json)));
    }

    [Fact]
    public void Every_problem_is_reported_not_only_the_first()
    {
        var problems = new SampleVal().ValidateParameters(Parameters("""{"command": 1, "environment": 2, "extra": 3}"""));

        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void Parsing_gives_the_command_and_the_environment_as_text()
    {
        var parameters = SampleParameters.Parse(Parameters("""{"command": ["serve", 8080], "environment": {"DEBUG": true}}"""), []);

        Assert.Equal(["serve", "8080"], parameters.Command);
        Assert.Equal("true", parameters.Environment["DEBUG"]);
    }
}
