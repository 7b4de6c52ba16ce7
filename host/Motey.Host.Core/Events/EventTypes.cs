using System.Text.Json;
using System.Text.Json.Serialization;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Events;

/// <summary>The event types and the data each carries (snake_case JSON, states as the REST's numbers plus a name).</summary>
public static class EventTypes
{
    public const string Service = "service";
    public const string Image = "image";
    public const string Node = "node";
    public const string Capability = "capability";
    public const string Plugin = "plugin";
    /// <summary>Sent by the stream only: the subscriber missed events and should read the state again.</summary>
    public const string Reset = "reset";

    /// <summary>The types a subscriber may ask for with ?types=.</summary>
    public static readonly IReadOnlyList<string> All = [Service, Image, Node, Capability, Plugin];

    public static void ServiceChanged(this EventHub hub, Service service, string change) =>
        hub.Publish(Service, service.Id, Json(new ServiceData(service.Id, service.ServiceName, change, (int)service.State,
            StateName(service.State), service.StateMessage)));

    public static void ImageChanged(this EventHub hub, Service service, int index) =>
        hub.Publish(Image, service.Id, Json(ImageData.Of(service, index)));

    public static void NodeChanged(this EventHub hub, string address, bool joined) =>
        hub.Publish(Node, null, Json(new NodeData(address, joined ? "joined" : "left")));

    public static void CapabilityChanged(this EventHub hub, Capability capability, bool added) =>
        hub.Publish(Capability, null, Json(new CapabilityData(capability.Name, capability.Type, added ? "added" : "removed")));

    /// <summary>
    /// <paramref name="change"/>: activated, failed, engine_available or engine_unavailable; while the node runs also added,
    /// updated, update_failed (the version before serves on) and removed.
    /// </summary>
    public static void PluginChanged(this EventHub hub, string plugin, string? engine, string change, string? message) =>
        hub.Publish(Plugin, null, Json(new PluginData(plugin, engine, change, message)));

    /// <summary>The data of a reset: why the subscriber should read the state again.</summary>
    public static string ResetData(string reason) => Json(new ResetInfo(reason));

    /// <summary>RUNNING, STOPPING, ... as the original Motey names the states.</summary>
    public static string StateName(ImageState state) => ImageStateNames[(int)state];

    /// <inheritdoc cref="StateName(ImageState)"/>
    public static string StateName(ServiceState state) => ImageStateNames[(int)state];

    private static readonly string[] ImageStateNames = [.. Enum.GetValues<ImageState>().Select(s => s.ToString().ToUpperInvariant())];

    private static string Json<T>(T data) => JsonSerializer.Serialize(data, Options);

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    private sealed record ServiceData(
        [property: JsonPropertyName("service_id")] string ServiceId,
        [property: JsonPropertyName("service_name")] string ServiceName,
        [property: JsonPropertyName("change")] string Change,
        [property: JsonPropertyName("state")] int State,
        [property: JsonPropertyName("state_name")] string StateName,
        [property: JsonPropertyName("state_message")] string StateMessage);

    private sealed record ImageData(
        [property: JsonPropertyName("service_id")] string ServiceId,
        [property: JsonPropertyName("service_name")] string ServiceName,
        [property: JsonPropertyName("index")] int Index,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("engine")] string Engine,
        [property: JsonPropertyName("node")] string? Node,
        [property: JsonPropertyName("instance_id")] string InstanceId,
        [property: JsonPropertyName("state")] int State,
        [property: JsonPropertyName("state_name")] string StateName,
        [property: JsonPropertyName("state_message")] string StateMessage,
        [property: JsonPropertyName("generation")] int Generation,
        [property: JsonPropertyName("restarts")] int Restarts)
    {
        public static ImageData Of(Service service, int index)
        {
            var image = service.Images[index];
            return new ImageData(service.Id, service.ServiceName, index, image.Name, image.Engine, image.Node, image.Id,
                (int)image.State, EventTypes.StateName(image.State), image.StateMessage, image.Generation, image.Restarts);
        }
    }

    private sealed record NodeData(
        [property: JsonPropertyName("address")] string Address,
        [property: JsonPropertyName("change")] string Change);

    private sealed record CapabilityData(
        [property: JsonPropertyName("capability")] string Capability,
        [property: JsonPropertyName("capability_type")] string CapabilityType,
        [property: JsonPropertyName("change")] string Change);

    private sealed record PluginData(
        [property: JsonPropertyName("plugin")] string Plugin,
        [property: JsonPropertyName("engine")] string? Engine,
        [property: JsonPropertyName("change")] string Change,
        [property: JsonPropertyName("message")] string? Message);

    private sealed record ResetInfo([property: JsonPropertyName("reason")] string Reason);
}
