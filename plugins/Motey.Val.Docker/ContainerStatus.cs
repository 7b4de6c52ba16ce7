using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>An instance's <see cref="ValInstanceStatus"/> from what the engine reports about its container.</summary>
internal static class ContainerStatus
{
    /// <summary>Combines the container's inspection with a stats sample (null when it is not running: all figures 0).</summary>
    public static ValInstanceStatus From(string instanceId, ContainerInspectResponse container, ContainerStatsResponse? sample)
    {
        var status = new ValInstanceStatus
        {
            Name = instanceId,
            ImageName = ImageNameOf(container.Config?.Labels, container.Config?.Image),
            CreatedAt = container.Created == default ? null : new DateTimeOffset(DateTime.SpecifyKind(container.Created, DateTimeKind.Utc)),
            Status = ContainerStates.ToImageState(container.State?.Status),
            ExitCode = ContainerStates.ExitCodeOf(container.State),
            Ip = IpOf(container.NetworkSettings),
        };
        return sample is null ? status : WithUsage(status, sample);
    }

    /// <summary>The figures of a sample on top of <paramref name="status"/>.</summary>
    public static ValInstanceStatus WithUsage(ValInstanceStatus status, ContainerStatsResponse sample)
    {
        var (rx, tx) = ContainerUsage.NetworkBytes(sample.Networks);
        return status with
        {
            UsedMemory = ContainerUsage.MemoryBytes(sample.MemoryStats),
            UsedCpu = ContainerUsage.CpuPercent(sample.CPUStats, sample.PreCPUStats),
            NetworkRxBytes = rx,
            NetworkTxBytes = tx,
        };
    }

    /// <summary>The image as the blueprint named it (our label), else as the engine knows it.</summary>
    public static string ImageNameOf(IDictionary<string, string>? labels, string? engineImage) =>
        labels is not null && labels.TryGetValue(ManagedLabels.ImageName, out var name) ? name : engineImage ?? "";

    /// <summary>The container's own address; null with network mode none or host, where it has none.</summary>
    private static string? IpOf(NetworkSettings? network)
    {
        if (network is null) return null;
        if (!string.IsNullOrEmpty(network.IPAddress)) return network.IPAddress;
        return network.Networks?.Values.Select(n => n.IPAddress).FirstOrDefault(ip => !string.IsNullOrEmpty(ip));
    }
}
