using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Peers;

namespace Motey.Host;

/// <summary>
/// `motey capability add|remove NAME [--type TYPE]`: sends a capability event to the node's capability
/// engine ([ZEROMQ] capability_engine_ipc_path), as the original's addcapability.py did.
/// </summary>
internal static class CapabilityCommand
{
    public static async Task<int> RunAsync(MoteySettings settings, IReadOnlyList<string> arguments, string? type, TextWriter output)
    {
        if (arguments.Count != 2 || arguments[0] is not ("add" or "remove"))
            return Cli.Fail("expected: motey capability add|remove NAME [--type TYPE]");
        type ??= "hardware";
        if (type == Capability.PluginType)
            return Cli.Fail($"capabilities of type '{Capability.PluginType}' are managed by the plugin catalog");
        var command = arguments[0] == "add" ? CapabilityEventPublisher.AddCommand : CapabilityEventPublisher.RemoveCommand;
        var code = await CapabilityEventPublisher.PublishAsync(settings.ZeroMq.CapabilityEngineEndpoint, command, [new Capability(arguments[1], type)], output);
        // The process ends right after: let NetMQ flush the event first (never done inside an agent).
        NetMQ.NetMQConfig.Cleanup(block: true);
        return code;
    }
}
