namespace Motey.Host.Core.Metrics;

/// <summary>Where a placement ended: on this node, on a peer, waiting for a node that can run the image, or in ERROR.</summary>
public enum PlacementOutcome { Local, Peer, Waiting, Error }

/// <summary>How a request to a peer ended.</summary>
public enum PeerOutcome { Ok, Error, Timeout }

/// <summary>
/// What the core counts for GET /metrics. The core only reports; the adapter (prometheus-net in the agent) keeps the
/// series. Gauges (services by state, nodes, plugins, subscribers) are read at scrape time, not reported here.
/// </summary>
public interface IMoteyMetrics
{
    /// <summary>One placement of an image, from the search for a node to its instance created (or waiting, or ERROR).</summary>
    void Placement(PlacementOutcome outcome, TimeSpan duration);

    /// <summary>One request to a peer: capabilities, deploy, status, terminate, fence or logs.</summary>
    void PeerRequest(string kind, PeerOutcome outcome);

    /// <summary>The agent replaced an ended instance of an image of <paramref name="engine"/> (restart policy).</summary>
    void InstanceRestarted(string engine);

    /// <summary>One capability event (add or remove) and what became of it: applied, unchanged, dropped or failed.</summary>
    void CapabilityEvent(string command, string outcome);
}

/// <summary>Counts nothing: for parts built without an agent around them (tests, tools).</summary>
public sealed class NoMetrics : IMoteyMetrics
{
    public static readonly NoMetrics Instance = new();
    public void Placement(PlacementOutcome outcome, TimeSpan duration) { }
    public void PeerRequest(string kind, PeerOutcome outcome) { }
    public void InstanceRestarted(string engine) { }
    public void CapabilityEvent(string command, string outcome) { }
}
