using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;
using Motey.Host.Peers;

namespace Motey.Host.CommandLine;

/// <summary>
/// `motey capability add|remove NAME [--type TYPE]`: sends a capability event to the node's capability
/// engine ([ZEROMQ] capability_engine_ipc_path), as the original's addcapability.py did. With capability_publishers = any
/// and a cluster_key the listener is a CURVE server, and the event goes out with the cluster key.
/// </summary>
internal static class CapabilityCommand
{
    public static async Task<int> RunAsync(MoteySettings settings, IReadOnlyList<string> arguments, string? type, TextWriter output)
    {
        if (arguments.Count != 2 || arguments[0] is not ("add" or "remove"))
            return Cli.Fail("expected: motey capability add|remove NAME [--type TYPE]");
        type ??= "hardware";
        var capability = new Capability(arguments[1], type);
        if (NodeCapabilities.Refusal(capability) is { } refusal) return Cli.Fail(refusal);
        var command = arguments[0] == "add" ? CapabilityEventPublisher.AddCommand : CapabilityEventPublisher.RemoveCommand;
        var code = await CapabilityEventPublisher.PublishAsync(settings.ZeroMq.CapabilityEngineEndpoint, command, [capability], output,
            key: ClusterKey.ForCapabilityEvents(settings.ZeroMq));
        // The process ends right after: let NetMQ flush the event first (never done inside an agent).
        NetMQ.NetMQConfig.Cleanup(block: true);
        return code;
    }
}
