using System.Text.Json;
using Motey.Abstractions;

namespace Motey.Val.Sample;

/// <summary>
/// The <c>parameters</c> of a blueprint image for the sample engine, read and checked in one pass. Unknown keys are
/// refused, so a typo never passes silently; the agent's own keys (<c>restart_policy</c>) never reach a VAL.
/// </summary>
/// <param name="Command"><c>command</c>: what the instance runs, a list such as <c>[serve, --port, 8080]</c>; empty for the image's default.</param>
/// <param name="Environment"><c>environment</c>: variables for the instance, a map such as <c>{LEVEL: debug, WORKERS: 4}</c>.</param>
internal sealed record SampleParameters(IReadOnlyList<string> Command, IReadOnlyDictionary<string, string> Environment)
{
    // TODO(engine): add the engine's own parameters here and in Parse, and list them in the README.
    private static readonly string[] Known = ["command", "environment"];

    /// <summary>Reads the parameters; <paramref name="problems"/> gets one message per problem, naming the parameter.</summary>
    public static SampleParameters Parse(IReadOnlyDictionary<string, JsonElement> parameters, List<string> problems)
    {
        var command = new List<string>();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "command": ReadCommand(value, command, problems); break;
                case "environment": ReadEnvironment(value, environment, problems); break;
                default: problems.Add($"parameters.{key}: unknown parameter (known: {string.Join(", ", Known)})"); break;
            }
        }
        return new SampleParameters(command, environment);
    }

    private static void ReadCommand(JsonElement value, List<string> command, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"parameters.command: expected a list of strings, got {ParameterKind.Of(value)}");
            return;
        }
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (ReadScalar(item, $"parameters.command[{index}]", problems) is { } text) command.Add(text);
            index++;
        }
    }

    private static void ReadEnvironment(JsonElement value, Dictionary<string, string> environment, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"parameters.environment: expected a map of variable names to strings, got {ParameterKind.Of(value)}");
            return;
        }
        foreach (var variable in value.EnumerateObject())
        {
            if (variable.Name.Length == 0 || variable.Name.Contains('='))
            {
                problems.Add($"parameters.environment: '{variable.Name}' is not a valid variable name");
                continue;
            }
            if (ReadScalar(variable.Value, $"parameters.environment.{variable.Name}", problems) is { } text)
                environment[variable.Name] = text;
        }
    }

    /// <summary>Strings as they are; numbers and booleans as their text, because YAML authors write <c>[--port, 8080]</c>.</summary>
    private static string? ReadScalar(JsonElement value, string where, List<string> problems)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
        if (text is null) problems.Add($"{where}: expected a string, number or boolean, got {ParameterKind.Of(value)}");
        return text;
    }
}
