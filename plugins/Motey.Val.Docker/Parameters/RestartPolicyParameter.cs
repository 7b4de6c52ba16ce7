using System.Text.Json;
using Motey.Abstractions;
using static Motey.Val.Docker.Parameters.ParameterValues;

namespace Motey.Val.Docker.Parameters;

/// <summary>
/// <c>restart_policy</c>: <c>always</c>, <c>on-failure</c> or <c>never</c>, or docker-py's
/// <c>{Name: always|on-failure|unless-stopped|no, MaximumRetryCount: n}</c>. Only checked here: the agent restarts
/// ended instances itself, the same way for every engine, so the container gets no Docker restart policy (two
/// supervisors would race and the agent would see restarts it did not make).
/// </summary>
internal static class RestartPolicyParameter
{
    // The agent reads the same names (host/Motey.Host.Core/Orchestration/RestartPolicy.cs); unless-stopped and no are docker-py's words.
    private static readonly string[] Names = ["always", "on-failure", "never", "unless-stopped", "no"];

    public static void Check(JsonElement value, List<string> problems)
    {
        const string where = "parameters.restart_policy";
        const string expected = "expected always, on-failure or never (or {Name: ...})";
        if (value.ValueKind == JsonValueKind.String)
        {
            if (!Names.Contains(value.GetString())) problems.Add($"{where}: {expected}, got {Got(value)}");
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: {expected}, got {ParameterKind.Of(value)}");
            return;
        }
        var named = false;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "Name":
                    named = true;
                    if (field.Value.ValueKind != JsonValueKind.String || !Names.Contains(field.Value.GetString()))
                    {
                        problems.Add($"{where}.Name: {expected}, got {Got(field.Value)}");
                    }
                    break;
                case "MaximumRetryCount":
                    if (field.Value.ValueKind != JsonValueKind.Number || !field.Value.TryGetInt32(out var count) || count < 0)
                    {
                        problems.Add($"{where}.MaximumRetryCount: expected a whole number >= 0, got {Got(field.Value)}");
                    }
                    break;
                default:
                    problems.Add($"{where}.{field.Name}: unknown key (known: Name, MaximumRetryCount)");
                    break;
            }
        }
        if (!named) problems.Add($"{where}: missing Name (always, on-failure or never)");
    }
}
