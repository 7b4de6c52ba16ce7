using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;

namespace Motey.Val.Sample.Tests;

internal static class TestSupport
{
    /// <summary>Labels as the agent puts them on every instance it creates.</summary>
    public static readonly IReadOnlyDictionary<string, string> AgentLabels = new Dictionary<string, string>
    {
        [InstanceLabels.ServiceId] = "4f2a9c",
        [InstanceLabels.ImageIndex] = "0",
        [InstanceLabels.Node] = "127.0.0.1",
    };

    /// <summary>A VAL activated the way the agent does it, with <paramref name="settings"/> as its config.ini section.</summary>
    public static async Task<SampleVal> ActivateAsync(IDictionary<string, string?>? settings = null)
    {
        var val = new SampleVal();
        await val.ActivateAsync(Context(settings), CancellationToken.None);
        return val;
    }

    /// <summary>What the agent hands a VAL: its config section, loggers, a data folder, the node's address.</summary>
    public static ValContext Context(IDictionary<string, string?>? settings = null) => new()
    {
        Settings = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build(),
        LoggerFactory = NullLoggerFactory.Instance,
        DataDirectory = Path.GetTempPath(),
        NodeAddress = "127.0.0.1",
    };

    /// <summary>Blueprint parameters written as JSON, e.g. <c>{"command": ["serve"]}</c>.</summary>
    public static IReadOnlyDictionary<string, JsonElement> Parameters(string json = "{}") =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    public static InstanceSpec Spec(string image, string parametersJson = "{}") => new(image, Parameters(parametersJson), AgentLabels);

    /// <summary>What the agent does to deploy an image: load it when missing, create an instance, start it.</summary>
    public static async Task<string> DeployAsync(IValPlugin val, string image, string parametersJson = "{}")
    {
        if (!await val.HasImageAsync(image, CancellationToken.None)) await val.LoadImageAsync(image, CancellationToken.None);
        var id = await val.CreateInstanceAsync(Spec(image, parametersJson), CancellationToken.None);
        await val.StartInstanceAsync(id, CancellationToken.None);
        return id;
    }
}
