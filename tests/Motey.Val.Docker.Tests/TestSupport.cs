using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

internal static class TestSupport
{
    public static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    /// <summary>What the agent would hand a VAL: its <c>[DOCKER]</c> section, loggers, data folder, node address.</summary>
    public static ValContext Context(IDictionary<string, string?>? settings = null) => new()
    {
        Settings = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build(),
        LoggerFactory = NullLoggerFactory.Instance,
        DataDirectory = System.IO.Path.GetTempPath(),
        NodeAddress = "127.0.0.1",
    };

    /// <summary>Blueprint parameters written as JSON, e.g. <c>{"command": ["sleep", "300"]}</c>.</summary>
    public static IReadOnlyDictionary<string, JsonElement> ParametersOf(string json = "{}") =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    public static InstanceSpec Spec(string image, string parametersJson = "{}", IReadOnlyDictionary<string, string>? labels = null) =>
        new(image, ParametersOf(parametersJson), labels ?? NoLabels);

    /// <summary>A short random hex string that keeps names and labels of parallel tests apart.</summary>
    public static string UniqueSuffix() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
