using System.Globalization;
using System.Text.Json;
using Motey.Abstractions;

namespace Motey.Val.Simulated;

/// <summary>A blueprint's <c>parameters</c> for the simulated engine: per-image overrides of the settings.</summary>
/// <param name="StartDelay"><c>start_delay_ms</c>; null to use the setting.</param>
/// <param name="Fail"><c>fail</c>: true always ends in Error, false never does; null rolls the <c>failure_rate</c> dice.</param>
internal sealed record SimulatedParameters(TimeSpan? StartDelay, bool? Fail)
{
    private static readonly string[] Known = ["start_delay_ms", "fail"];

    /// <summary>Reads the parameters; <paramref name="problems"/> gets one message per problem, naming the key.</summary>
    public static SimulatedParameters Parse(IReadOnlyDictionary<string, JsonElement> parameters, List<string> problems)
    {
        TimeSpan? delay = null;
        bool? fail = null;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "start_delay_ms":
                    if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var ms) && ms >= 0)
                    {
                        delay = TimeSpan.FromMilliseconds(ms);
                    }
                    else
                    {
                        var got = value.ValueKind == JsonValueKind.Number ? value.GetRawText() : ParameterKind.Of(value);
                        problems.Add($"parameters.start_delay_ms: expected a whole number of milliseconds >= 0, got {got}");
                    }
                    break;
                case "fail":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) fail = value.GetBoolean();
                    else problems.Add($"parameters.fail: expected a boolean, got {ParameterKind.Of(value)}");
                    break;
                default:
                    problems.Add($"parameters.{key}: unknown parameter (known: {string.Join(", ", Known)})");
                    break;
            }
        }
        return new SimulatedParameters(delay, fail);
    }
}
