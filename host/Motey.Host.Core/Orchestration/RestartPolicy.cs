using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Orchestration;

/// <summary>What the agent does when an instance ends by itself. The agent enforces it for every engine.</summary>
public enum RestartPolicy
{
    /// <summary>Replace the instance when it ended with a non-zero or unknown exit code (the default).</summary>
    OnFailure,
    /// <summary>Replace the instance whenever it ends.</summary>
    Always,
    /// <summary>Never replace it: the image ends TERMINATED (exit code 0) or ERROR.</summary>
    Never,
}

/// <summary>
/// Reads <c>parameters.restart_policy</c>: <c>always</c>, <c>on-failure</c> or <c>never</c>, or the docker-py
/// form <c>{Name: always|on-failure|unless-stopped|no}</c>. The key belongs to the agent, so it is taken out of
/// the parameters a VAL sees.
/// </summary>
public static class RestartPolicies
{
    /// <summary>The parameter that names the policy.</summary>
    public const string Key = "restart_policy";

    /// <summary>The policy as a blueprint writes it.</summary>
    public static string Show(RestartPolicy policy) => policy switch
    {
        RestartPolicy.Always => "always",
        RestartPolicy.Never => "never",
        _ => "on-failure",
    };

    /// <summary>The image's policy; on-failure when it names none.</summary>
    public static RestartPolicy Of(Image image) =>
        image.Parameters.TryGetValue(Key, out var value) && TryParse(value, out var policy, out _) ? policy : RestartPolicy.OnFailure;

    /// <summary>Reads a policy value; false with the problem, worded for a blueprint author, when it names none.</summary>
    public static bool TryParse(JsonElement value, out RestartPolicy policy, out string? problem)
    {
        var name = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("Name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString(),
            _ => null,
        };
        (policy, problem) = name switch
        {
            "always" or "unless-stopped" => (RestartPolicy.Always, null),
            "on-failure" => (RestartPolicy.OnFailure, (string?)null),
            "never" or "no" => (RestartPolicy.Never, null),
            _ => (RestartPolicy.OnFailure, $"expected always, on-failure or never (or {{Name: ...}}), got {(name is null ? ParameterKind.Of(value) : $"'{name}'")}"),
        };
        return problem is null;
    }

    /// <summary>The parameters as the image's VAL sees them: without the agent's own keys.</summary>
    public static IReadOnlyDictionary<string, JsonElement> ForVal(IReadOnlyDictionary<string, JsonElement> parameters) =>
        parameters.ContainsKey(Key) ? parameters.Where(p => p.Key != Key).ToDictionary() : parameters;
}
