using System.Text;
using System.Text.Json;

namespace Motey.Val.Docker;

/// <summary>One container of the engine's list: its full ID, the image the engine resolved, its labels.</summary>
internal sealed record ListedContainer(string Id, string? Image, IDictionary<string, string>? Labels);

/// <summary>
/// The list of this VAL's containers (label <c>motey.managed=true</c>), asked over the <see cref="EngineWire"/> and read
/// with System.Text.Json: the fence asks for it every few seconds, also on a node that runs no container.
/// </summary>
internal static class ManagedContainers
{
    /// <summary>This VAL's containers in one of the given engine states.</summary>
    public static Task<IReadOnlyList<ListedContainer>> ListAsync(DockerEngine engine, IEnumerable<string> states, CancellationToken cancellationToken) =>
        engine.GetAsync("listing containers", "/containers/json?all=1&filters=" + Uri.EscapeDataString(Filters(states)), Read, cancellationToken);

    /// <summary>The engine's filters: <c>{"label":{"motey.managed=true":true},"status":{"running":true,...}}</c>.</summary>
    internal static string Filters(IEnumerable<string> states)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("label");
            writer.WriteBoolean(ManagedLabels.ManagedFilter, true);
            writer.WriteEndObject();
            writer.WriteStartObject("status");
            foreach (var state in states) writer.WriteBoolean(state, true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(json.GetBuffer(), 0, (int)json.Length);
    }

    /// <summary>The engine's JSON array of containers: <c>Id</c>, <c>Image</c> and <c>Labels</c> of each.</summary>
    internal static IReadOnlyList<ListedContainer> Read(string body)
    {
        using var document = JsonDocument.Parse(body);
        var containers = new List<ListedContainer>();
        foreach (var container in document.RootElement.EnumerateArray())
        {
            Dictionary<string, string>? labels = null;
            if (container.TryGetProperty("Labels", out var labelsJson) && labelsJson.ValueKind == JsonValueKind.Object)
            {
                labels = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var label in labelsJson.EnumerateObject())
                    if (label.Value.ValueKind == JsonValueKind.String) labels[label.Name] = label.Value.GetString()!;
            }
            containers.Add(new ListedContainer(Text(container, "Id") ?? "", Text(container, "Image"), labels));
        }
        return containers;
    }

    private static string? Text(JsonElement container, string name) =>
        container.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
