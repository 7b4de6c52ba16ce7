using System.Text.Json;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary><c>environment</c>: a map of names to strings, numbers or booleans, or a list of <c>NAME=value</c> strings.</summary>
internal static class EnvironmentParameter
{
    public static IList<string>? Read(JsonElement value, List<string> problems)
    {
        var env = new List<string>();
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var entry in value.EnumerateObject())
                {
                    var where = $"parameters.environment.{entry.Name}";
                    if (!IsName(entry.Name))
                    {
                        problems.Add($"{where}: '{entry.Name}' is not a valid variable name");
                    }
                    else if (Scalar(entry.Value) is { } text)
                    {
                        env.Add($"{entry.Name}={text}");
                    }
                    else
                    {
                        problems.Add($"{where}: expected a string, number or boolean, got {Got(entry.Value)}");
                    }
                }
                return env;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
                    var equals = text?.IndexOf('=') ?? -1;
                    if (text is null || equals < 1 || !IsName(text[..equals]))
                    {
                        problems.Add($"parameters.environment[{index}]: expected a \"NAME=value\" string, got {Got(item)}");
                    }
                    else
                    {
                        env.Add(text);
                    }
                    index++;
                }
                return env;
            default:
                problems.Add($"parameters.environment: expected a map of names to values or a list of \"NAME=value\" strings, got {ParameterKind.Of(value)}");
                return null;
        }
    }

    /// <summary>Anything execve can carry: not empty, no <c>=</c>, no NUL.</summary>
    private static bool IsName(string name) => name.Length > 0 && !name.Contains('=') && !name.Contains('\0');
}
