using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Motey.Abstractions;

/// <summary>What the agent gives a VAL on activation.</summary>
public sealed class ValContext
{
    /// <summary>The plugin's own config.ini section, named after its type in capitals (e.g. <c>[DOCKER]</c>); empty when absent.</summary>
    public required IConfiguration Settings { get; init; }

    /// <summary>Loggers that write to the agent's log.</summary>
    public required ILoggerFactory LoggerFactory { get; init; }

    /// <summary>A folder the plugin may keep files in; it exists and survives agent restarts.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Address of this node as the cluster knows it.</summary>
    public required string NodeAddress { get; init; }
}
