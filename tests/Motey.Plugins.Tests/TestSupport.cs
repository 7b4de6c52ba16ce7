using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;

namespace Motey.Plugins.Tests;

internal static class TestSupport
{
    public static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    /// <summary>What the agent would hand a VAL: its config section, loggers, data folder, node address.</summary>
    public static ValContext Context(string dataDirectory, IDictionary<string, string?>? settings = null) => new()
    {
        Settings = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build(),
        LoggerFactory = NullLoggerFactory.Instance,
        DataDirectory = dataDirectory,
        NodeAddress = "127.0.0.1",
    };

    /// <summary>Blueprint parameters written as JSON, e.g. <c>{"args": ["300"]}</c>.</summary>
    public static IReadOnlyDictionary<string, JsonElement> Parameters(string json = "{}") =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    public static InstanceSpec Spec(string image, string parametersJson = "{}", IReadOnlyDictionary<string, string>? labels = null) =>
        new(image, Parameters(parametersJson), labels ?? NoLabels);

    /// <summary>How long these tests wait for an instance or a process to change.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>The pid of a process VAL instance id (<c>&lt;pid&gt;-&lt;starttime&gt;</c>).</summary>
    public static int PidOf(string instanceId) => int.Parse(instanceId[..instanceId.IndexOf('-')]);
}
