using System.Globalization;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Health;

namespace Motey.Host.Peers;

/// <summary>
/// The four endpoints other nodes call (the original's ZeroMQ repliers), bound on tcp://&lt;this node's address&gt;:&lt;port&gt;.
/// Replies keep the original's contract: capabilities as a JSON list; deploy the instance id or "" on failure (to a
/// request with labels, which only our nodes send, <c>error: reason</c>);
/// status the ImageState number, "5" when unknown; terminate "" when done, <c>error: reason</c> when not (our extension).
/// Each endpoint answers on its own, so a slow deploy holds up neither the other endpoints nor other deploys.
/// With [ZEROMQ] cluster_key all four are CURVE servers of the cluster key: a peer without it gets no answer, and the
/// refused connections of all four are logged together, at most once a minute (<see cref="HandshakeRefusals"/>).
/// </summary>
internal sealed class PeerRepliers : IHostedService, IDisposable
{
    /// <summary>Label that makes a deploy without a service id and image index unique, so it never adopts another instance.</summary>
    public const string RequestIdLabel = "motey.request.id";

    public const string ErrorPrefix = "error: ";
    private static readonly string UnknownState = ((int)ImageState.Error).ToString(CultureInfo.InvariantCulture);

    private readonly List<Replier> _repliers = [];
    private readonly MoteySettings _settings;
    private readonly NodeIdentity _identity;
    private readonly INodeClient _local;
    private readonly InstanceOwnership? _ownership;
    private readonly ILogger<PeerRepliers> _log;
    private readonly LogSessions _logs;
    private readonly NodeStatusSampler _status;
    private CurveServer? _curve;

    /// <summary>The repliers in front of this node's <see cref="LocalNode"/> (the constructor dependency injection sees).</summary>
    public PeerRepliers(MoteySettings settings, NodeIdentity identity, LocalNode local, InstanceOwnership ownership, NodeStatusSampler status,
        ILogger<PeerRepliers> log)
        : this(settings, identity, (INodeClient)local, log, ownership, status: status)
    {
    }

    /// <summary>
    /// The repliers in front of any node client: tests put one that can hold requests in front of the local node.
    /// Without <paramref name="ownership"/> fence requests are answered like any capabilities request (no opinion); without
    /// <paramref name="status"/> the node's status is read on demand (memory and disk as they are, cpu 0: nothing samples it).
    /// </summary>
    internal PeerRepliers(MoteySettings settings, NodeIdentity identity, INodeClient local, ILogger<PeerRepliers> log, InstanceOwnership? ownership = null,
        TimeSpan? logIdleTimeout = null, NodeStatusSampler? status = null)
    {
        _status = status ?? new NodeStatusSampler(settings);
        _logs = new LogSessions(local, log, logIdleTimeout);
        _settings = settings;
        _identity = identity;
        _local = local;
        _ownership = ownership;
        _log = log;
    }

    /// <summary>Binds all four endpoints, or none: a bind failure throws <see cref="PeerBindException"/> naming the endpoint and fails the start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var ports = _settings.ZeroMq;
        if (ClusterKey.ReadConfigured(ports) is { } key) _curve = new CurveServer(key, new HandshakeRefusals(_log, TimeProvider.System));
        try
        {
            Start("capabilities replier", ports.CapabilitiesReplier, AnswerCapabilitiesAsync, reason => ErrorPrefix + reason);
            Start("deploy image replier", ports.DeployImageReplier, AnswerDeployAsync, _ => "");
            Start("image status replier", ports.ImageStatusReplier, AnswerStatusAsync, _ => UnknownState);
            Start("image terminate replier", ports.ImageTerminateReplier, AnswerTerminateAsync, reason => ErrorPrefix + reason);
        }
        catch (PeerBindException e)
        {
            _log.LogCritical("{Error}; other nodes could not reach this node. Check [GENERAL] address and the [ZEROMQ] ports", e.Message);
            await StopAsync(CancellationToken.None);
            throw;
        }
        _log.LogInformation("Answering peers on {Address}: capabilities {Capabilities}, deploy {Deploy}, status {Status}, terminate {Terminate}; {Security}",
            _identity.Address, ports.CapabilitiesReplier, ports.DeployImageReplier, ports.ImageStatusReplier, ports.ImageTerminateReplier,
            _curve is null ? "plain ZeroMQ (no [ZEROMQ] cluster_key)" : $"CURVE with the {_curve.Key}: peers without it get no answer");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_repliers.Select(r => r.StopAsync()));
        foreach (var replier in _repliers) replier.Dispose();
        _repliers.Clear();
    }

    public void Dispose()
    {
        StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        _logs.Dispose();
    }

    /// <summary>The log sessions peers have open here (for tests).</summary>
    internal LogSessions LogSessions => _logs;

    private void Start(string name, int port, Func<PeerRequest, CancellationToken, Task<string>> handle, Func<string, string> failureReply)
    {
        var replier = new Replier(name, PeerSockets.Tcp(_identity.Address, port), handle, failureReply, _log, _curve);
        replier.Start();
        _repliers.Add(replier);
    }

    /// <summary>Any request: the original sends an empty string, and nothing in it matters; but a fence, logs, node status or exit code request of our nodes.</summary>
    private async Task<string> AnswerCapabilitiesAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        if (request.Text is { } status && status.StartsWith(NodeStatusMessage.Prefix, StringComparison.Ordinal))
            return AnswerNodeStatus();
        if (request.Text is { } logs && logs.StartsWith(LogsMessage.Prefix, StringComparison.Ordinal))
            return await _logs.AnswerAsync(logs, cancellationToken);
        if (request.Text is { } exit && exit.StartsWith(ExitCodeMessage.Prefix, StringComparison.Ordinal))
            return await AnswerExitCodeAsync(exit, cancellationToken);
        if (_ownership is not null && request.Text is { } text && text.StartsWith(FenceMessage.Prefix, StringComparison.Ordinal))
            return await AnswerFenceAsync(_ownership, text, cancellationToken);
        if (request.Problem is not null) _log.LogDebug("Capabilities request with {Problem}; answering anyway", request.Problem);
        return CapabilityReply.Write(await _local.GetCapabilitiesAsync(cancellationToken));
    }

    /// <summary>The exit code of an ended instance of this node, as its engine reports it (null when it does not know).</summary>
    private async Task<string> AnswerExitCodeAsync(string text, CancellationToken cancellationToken)
    {
        if (ExitCodeMessage.ReadRequest(text, out var problem) is not { } request) return ExitCodeMessage.WriteError(problem!);
        try
        {
            var image = new Image { Id = request.InstanceId, Name = "", Engine = request.Engine };
            return ExitCodeMessage.WriteReply(await _local.GetExitCodeAsync(image, cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.LogWarning("Could not tell a peer the exit code of instance {InstanceId} ({Engine}): {Error}", request.InstanceId, request.Engine, e.Message);
            return ExitCodeMessage.WriteError($"could not read the exit code of instance {request.InstanceId}: {e.Message}");
        }
    }

    private string AnswerNodeStatus()
    {
        try
        {
            return NodeStatusMessage.WriteReply(_status.Current());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or KeyNotFoundException)
        {
            // What /proc or the disk gave could not be read: the peer is told so and this node's log says why.
            _log.LogWarning("Could not tell a peer this node's status: {Error}", e.Message);
            return NodeStatusMessage.WriteError($"could not read its status: {e.Message}");
        }
    }

    private async Task<string> AnswerFenceAsync(InstanceOwnership ownership, string text, CancellationToken cancellationToken)
    {
        if (FenceMessage.ReadRequest(text, out var problem) is not { } request)
        {
            _log.LogWarning("Refused a fence request: {Problem}; request: {Text}", problem, Frames.Preview(text));
            return ErrorPrefix + problem;
        }
        var verdicts = await ownership.DecideAsync(request.Holder, request.Held, cancellationToken);
        foreach (var verdict in verdicts.Where(v => !v.Keep))
            _log.LogInformation("Node {Holder} is told to stop instance {InstanceId}: {Reason}", request.Holder, verdict.Id, verdict.Reason);
        return FenceMessage.WriteReply(verdicts);
    }

    private async Task<string> AnswerDeployAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        if (Read(request, requireId: false, "deploy") is not { } parsed) return "";
        var image = parsed.Image;
        try
        {
            var id = await _local.DeployImageAsync(image, DeployLabels(parsed.Labels), cancellationToken);
            _log.LogInformation("Deployed image {Image} ({Engine}) for a peer as instance {InstanceId}", image.Name, image.Engine, id);
            return id;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.LogWarning("Could not deploy image {Image} ({Engine}) for a peer: {Error}", image.Name, image.Engine, e.Message);
            // Our nodes send labels and read "error: reason" (the node that placed the image shows it as the image's state
            // message); the original's reply has no room for a reason, so an original node gets "" and the reason stays in this log.
            return parsed.Labels is null ? "" : ErrorPrefix + e.Message;
        }
    }

    private async Task<string> AnswerStatusAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        if (Read(request, requireId: true, "status") is not { } parsed) return UnknownState;
        try
        {
            var state = await _local.GetImageStateAsync(parsed.Image, cancellationToken);
            return ((int)state).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.LogWarning("Could not tell a peer the state of instance {InstanceId} ({Engine}): {Error}", parsed.Image.Id, parsed.Image.Engine, e.Message);
            return UnknownState;
        }
    }

    private async Task<string> AnswerTerminateAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        if (Read(request, requireId: true, "terminate", out var problem) is not { } parsed) return ErrorPrefix + problem;
        try
        {
            await _local.TerminateImageAsync(parsed.Image, cancellationToken);
            _log.LogInformation("Terminated instance {InstanceId} ({Engine}) for a peer", parsed.Image.Id, parsed.Image.Engine);
            return "";
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.LogWarning("Could not terminate instance {InstanceId} ({Engine}) for a peer: {Error}", parsed.Image.Id, parsed.Image.Engine, e.Message);
            return ErrorPrefix + e.Message;
        }
    }

    private ImageRequest? Read(PeerRequest request, bool requireId, string what) => Read(request, requireId, what, out _);

    private ImageRequest? Read(PeerRequest request, bool requireId, string what, out string? problem)
    {
        problem = request.Problem;
        var parsed = request.Text is null ? null : ImageMessage.Read(request.Text, requireId, out problem);
        if (parsed is null)
            _log.LogWarning("Refused a {Request} request: {Problem}; request: {Text}", what, problem, Frames.Preview(request.Text ?? ""));
        return parsed;
    }

    /// <summary>
    /// The peer's labels (our nodes send service id, image index and node), with this node as <c>motey.node</c>.
    /// The local node adopts a running instance whose labels all match, so a request that does not name its
    /// service and image (an original node sends no labels) gets a unique request label and always a new instance.
    /// </summary>
    private Dictionary<string, string> DeployLabels(IReadOnlyDictionary<string, string>? given)
    {
        var labels = given is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(given, StringComparer.Ordinal);
        labels[InstanceLabels.Node] = _identity.Address;
        if (!labels.ContainsKey(InstanceLabels.ServiceId) || !labels.ContainsKey(InstanceLabels.ImageIndex))
            labels[RequestIdLabel] = Guid.NewGuid().ToString("N");
        return labels;
    }
}
