using System.Text.Json;

namespace Motey.Abstractions;

/// <summary>
/// A Virtualization Abstraction Layer: runs images of one engine (the seed's AbstractVAL).
/// A plugin assembly holds one public, non-abstract implementation with a parameterless constructor.
/// Every member may throw; the agent reports the exception's message and keeps running.
/// </summary>
public interface IValPlugin
{
    /// <summary>The engine this VAL runs, e.g. <c>docker</c>; registered as a <c>plugin</c> capability while active.</summary>
    string PluginType { get; }

    /// <summary>Called once after loading. Throw if the engine cannot be used.</summary>
    Task ActivateAsync(ValContext context, CancellationToken cancellationToken);

    /// <summary>Called when the agent stops or unloads the plugin. Instances keep running.</summary>
    Task DeactivateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether the engine behind this VAL can be used now (Docker: the daemon answers). The agent asks
    /// periodically and withdraws the engine's <c>plugin</c> capability while it cannot. Must not throw.
    /// </summary>
    Task<EngineHealth> CheckEngineAsync(CancellationToken cancellationToken) => Task.FromResult(EngineHealth.Available);

    /// <summary>
    /// Checks a blueprint's <c>parameters</c> as the engine's own syntax, before anything is stored or started: what every
    /// node with this plugin reads the same, whatever its settings (a node's policy belongs in <see cref="ValidateImage"/>).
    /// A node that has this plugin refuses a posted blueprint when this fails, even if another node would run the image.
    /// Returns one message per problem, each naming the parameter (e.g. <c>parameters.args: expected a list of strings</c>); empty when valid.
    /// </summary>
    IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters);

    /// <summary>
    /// Checks an image, its name and its parameters, on the node that is to run it, before every deploy (a peer's too):
    /// the parameters and this node's policy, what the engine cannot check from the parameters alone, such as an
    /// allow-list of executables. A refusal becomes the image's state message at the node that placed it.
    /// Returns one message per problem, <c>name: ...</c> for the image name and <c>parameters....</c> for a parameter;
    /// empty when valid. The default checks the parameters alone (<see cref="ValidateParameters"/>).
    /// </summary>
    IReadOnlyList<string> ValidateImage(string imageName, IReadOnlyDictionary<string, JsonElement> parameters) => ValidateParameters(parameters);

    /// <summary>Whether the image is present on this node.</summary>
    Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken);

    /// <summary>Brings the image to this node without starting it (Docker: pull).</summary>
    Task LoadImageAsync(string imageName, CancellationToken cancellationToken);

    /// <summary>Deletes the image, not its instances.</summary>
    Task DeleteImageAsync(string imageName, CancellationToken cancellationToken);

    /// <summary>Creates an instance of an image and returns its id. Does not start it: until started its state is <see cref="ImageState.Initial"/>, or <see cref="ImageState.Instantiating"/> where the engine reports a created instance so (Docker).</summary>
    Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken);

    /// <summary>Starts a created or stopped instance. A VAL whose instances cannot be restarted (plain processes) throws <see cref="ValException"/> for an ended one.</summary>
    Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Stops an instance; it may be started again until it is removed.</summary>
    Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Removes a stopped instance and what it held. Removing an unknown instance is not an error.</summary>
    Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Whether the instance exists (running or not).</summary>
    Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Every instance of this VAL that has not ended (created, running or paused), with the labels it was created with: how the agent finds its instances again after a restart.</summary>
    Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken);

    /// <summary>Resource use of one instance, or null when it does not exist.</summary>
    Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Resource use of all instances of this VAL.</summary>
    Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken);

    /// <summary>State of an instance; <see cref="ImageState.Terminated"/> when it no longer exists.</summary>
    Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// What an instance printed, oldest line first: the last <see cref="LogRequest.Tail"/> lines (all when null), then,
    /// with <see cref="LogRequest.Follow"/>, each new line as it is printed until the instance ends or
    /// <paramref name="cancellationToken"/> is cancelled (then the enumeration just ends). Output is kept until the instance
    /// is removed. Throws <see cref="ValException"/> when the instance does not exist or is not one of this VAL's.
    /// Optional: the default throws <see cref="NotSupportedException"/>, and the agent answers that the engine does not
    /// provide logs (HTTP 501), so plugins built before this member keep working.
    /// </summary>
    IAsyncEnumerable<LogLine> ReadLogsAsync(string instanceId, LogRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"the '{PluginType}' VAL does not provide instance logs");
}

/// <summary>What to create: an image, its parameters, and labels that let the agent find the instance again.</summary>
/// <param name="ImageName">Image reference.</param>
/// <param name="Parameters">Blueprint parameters, already accepted by <see cref="IValPlugin.ValidateParameters"/>.</param>
/// <param name="Labels">Agent labels (service id, image index, node); a VAL stores them with the instance where it can.</param>
public sealed record InstanceSpec(
    string ImageName,
    IReadOnlyDictionary<string, JsonElement> Parameters,
    IReadOnlyDictionary<string, string> Labels);

/// <summary>Whether a VAL's engine can be used, and if not, why.</summary>
/// <param name="IsAvailable">True when the engine answers.</param>
/// <param name="Problem">What is wrong when it does not, e.g. the engine's address and the error.</param>
public sealed record EngineHealth(bool IsAvailable, string? Problem)
{
    /// <summary>The engine can be used.</summary>
    public static readonly EngineHealth Available = new(true, null);

    /// <summary>The engine cannot be used, for the given reason.</summary>
    public static EngineHealth Unavailable(string problem) => new(false, problem);
}

/// <summary>An instance as a VAL lists it.</summary>
/// <param name="Id">Instance id.</param>
/// <param name="ImageName">Image it runs.</param>
/// <param name="Labels">Labels it was created with (empty when the VAL cannot keep them).</param>
public sealed record ValInstance(string Id, string ImageName, IReadOnlyDictionary<string, string> Labels);

/// <summary>Labels the agent puts on every instance it creates.</summary>
public static class InstanceLabels
{
    /// <summary>Id of the service the instance belongs to.</summary>
    public const string ServiceId = "motey.service.id";
    /// <summary>Index of the image in the service.</summary>
    public const string ImageIndex = "motey.image.index";
    /// <summary>Address of the node that created the instance.</summary>
    public const string Node = "motey.node";
    /// <summary>Address of the node that placed the instance: the node that holds its service and decides whether it runs.</summary>
    public const string PlacedBy = "motey.placed_by";
    /// <summary>The image's placement generation when the instance was created: it grows with every placement of the image.</summary>
    public const string Generation = "motey.generation";
}

/// <summary>A failure a VAL can explain, e.g. an image that does not exist. Its message reaches the user as is.</summary>
public class ValException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public ValException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for the user and the cause.</summary>
    public ValException(string message, Exception inner) : base(message, inner) { }
}
