using System.Text.Json.Serialization;

namespace Motey.Abstractions;

/// <summary>Resource use of one VAL instance (the seed's VALInstanceStatus).</summary>
public sealed record ValInstanceStatus
{
    /// <summary>Instance id.</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary>Image the instance runs.</summary>
    [JsonPropertyName("image_name")] public required string ImageName { get; init; }
    /// <summary>When the instance was created.</summary>
    [JsonPropertyName("created_at")] public DateTimeOffset? CreatedAt { get; init; }
    /// <summary>Current state.</summary>
    [JsonPropertyName("status")] public ImageState Status { get; init; }
    /// <summary>Exit code once the instance has ended, when the engine knows it; null while it runs or when unknown.</summary>
    [JsonPropertyName("exit_code")] public int? ExitCode { get; init; }
    /// <summary>Address of the instance, when it has one of its own.</summary>
    [JsonPropertyName("ip")] public string? Ip { get; init; }
    /// <summary>Resident memory in bytes.</summary>
    [JsonPropertyName("used_memory")] public long UsedMemory { get; init; }
    /// <summary>CPU use in percent of one core, averaged over the instance's life or the last sample.</summary>
    [JsonPropertyName("used_cpu")] public double UsedCpu { get; init; }
    /// <summary>Bytes sent.</summary>
    [JsonPropertyName("network_tx_bytes")] public long NetworkTxBytes { get; init; }
    /// <summary>Bytes received.</summary>
    [JsonPropertyName("network_rx_bytes")] public long NetworkRxBytes { get; init; }
}

/// <summary>Resource use of all instances of one VAL (the seed's SystemStatus).</summary>
public sealed record SystemStatus
{
    /// <summary>Resident memory in bytes.</summary>
    [JsonPropertyName("used_memory")] public long UsedMemory { get; init; }
    /// <summary>CPU use in percent of one core.</summary>
    [JsonPropertyName("used_cpu")] public double UsedCpu { get; init; }
    /// <summary>Bytes sent.</summary>
    [JsonPropertyName("network_tx_bytes")] public long NetworkTxBytes { get; init; }
    /// <summary>Bytes received.</summary>
    [JsonPropertyName("network_rx_bytes")] public long NetworkRxBytes { get; init; }

    /// <summary>The sum of several instances' figures.</summary>
    public static SystemStatus Sum(IEnumerable<ValInstanceStatus> instances)
    {
        long memory = 0, tx = 0, rx = 0;
        double cpu = 0;
        foreach (var s in instances)
        {
            memory += s.UsedMemory;
            cpu += s.UsedCpu;
            tx += s.NetworkTxBytes;
            rx += s.NetworkRxBytes;
        }
        return new SystemStatus { UsedMemory = memory, UsedCpu = cpu, NetworkTxBytes = tx, NetworkRxBytes = rx };
    }
}
