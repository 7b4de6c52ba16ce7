using System.Text.Json;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary><c>labels</c>: a map of names to strings (numbers and booleans as their text); <c>motey.</c> names are the agent's.</summary>
internal static class LabelsParameter
{
    public static Dictionary<string, string>? Read(JsonElement value, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"parameters.labels: expected a map of label names to strings, got {ParameterKind.Of(value)}");
            return null;
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            var where = $"parameters.labels.{entry.Name}";
            if (entry.Name.Length == 0)
            {
                problems.Add($"{where}: a label needs a name");
            }
            else if (entry.Name.StartsWith(ManagedLabels.ReservedPrefix, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{where}: labels starting with '{ManagedLabels.ReservedPrefix}' are reserved for the agent");
            }
            else if (Scalar(entry.Value) is { } text)
            {
                labels[entry.Name] = text;
            }
            else
            {
                problems.Add($"{where}: expected a string, got {Got(entry.Value)}");
            }
        }
        return labels;
    }
}
