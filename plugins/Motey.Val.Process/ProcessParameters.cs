using System.Globalization;
using System.Text.Json;
using Motey.Abstractions;

namespace Motey.Val.Process;

/// <summary>A blueprint's <c>parameters</c> for the process engine, read and checked in one pass.</summary>
internal sealed record ProcessParameters(
    IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Env,
    string? WorkingDirectory,
    TimeSpan StopTimeout)
{
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] Known = ["args", "env", "working_directory", "stop_timeout"];

    /// <summary>Reads the parameters; <paramref name="problems"/> gets one message per problem, naming the key.</summary>
    public static ProcessParameters Parse(IReadOnlyDictionary<string, JsonElement> parameters, List<string> problems)
    {
        var args = new List<string>();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        string? workingDirectory = null;
        var stopTimeout = DefaultStopTimeout;

        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "args": ReadArgs(value, args, problems); break;
                case "env": ReadEnv(value, env, problems); break;
                case "working_directory": workingDirectory = ReadWorkingDirectory(value, problems); break;
                case "stop_timeout": stopTimeout = ReadStopTimeout(value, problems) ?? stopTimeout; break;
                default: problems.Add($"parameters.{key}: unknown parameter (known: {string.Join(", ", Known)})"); break;
            }
        }
        return new ProcessParameters(args, env, workingDirectory, stopTimeout);
    }

    private static void ReadArgs(JsonElement value, List<string> args, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"parameters.args: expected a list of strings, got {ParameterKind.Of(value)}");
            return;
        }
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var text = ReadScalar(item, $"parameters.args[{index}]", problems);
            if (text is not null) args.Add(text);
            index++;
        }
    }

    private static void ReadEnv(JsonElement value, Dictionary<string, string> env, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"parameters.env: expected a map of variable names to strings, got {ParameterKind.Of(value)}");
            return;
        }
        foreach (var property in value.EnumerateObject())
        {
            // execve cannot carry '=' in a name or NUL anywhere.
            if (property.Name.Length == 0 || property.Name.Contains('=') || property.Name.Contains('\0'))
            {
                problems.Add($"parameters.env: '{property.Name}' is not a valid variable name");
                continue;
            }
            var text = ReadScalar(property.Value, $"parameters.env.{property.Name}", problems);
            if (text is not null) env[property.Name] = text;
        }
    }

    private static string? ReadWorkingDirectory(JsonElement value, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"parameters.working_directory: expected an absolute path, got {ParameterKind.Of(value)}");
            return null;
        }
        var path = value.GetString()!;
        // Relative to what? The agent's working directory must never matter.
        if (!Path.IsPathFullyQualified(path) || path.Contains('\0'))
        {
            problems.Add($"parameters.working_directory: expected an absolute path, got '{path}'");
            return null;
        }
        return path;
    }

    private static TimeSpan? ReadStopTimeout(JsonElement value, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            problems.Add($"parameters.stop_timeout: expected a number of seconds >= 0, got {ParameterKind.Of(value)}");
            return null;
        }
        var seconds = value.GetDouble();
        // One day is far beyond any graceful shutdown and keeps TimeSpan arithmetic safe.
        if (!double.IsFinite(seconds) || seconds < 0 || seconds > 86_400)
        {
            problems.Add($"parameters.stop_timeout: expected a number of seconds from 0 to 86400, got {value.GetRawText()}");
            return null;
        }
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Strings as they are; numbers and booleans as their text, because YAML authors write <c>[--port, 8080]</c>.</summary>
    private static string? ReadScalar(JsonElement value, string where, List<string> problems)
    {
        string? text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
        if (text is null)
        {
            problems.Add($"{where}: expected a string, number or boolean, got {ParameterKind.Of(value)}");
        }
        else if (text.Contains('\0'))
        {
            problems.Add($"{where}: contains a NUL character, which a process cannot receive");
            return null;
        }
        return text;
    }
}
