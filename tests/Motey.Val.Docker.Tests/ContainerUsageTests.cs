using Docker.DotNet.Models;

namespace Motey.Val.Docker.Tests;

/// <summary>Usage figures from a stats sample, computed as <c>docker stats</c> computes them.</summary>
public sealed class ContainerUsageTests
{
    private static CPUStats Cpu(ulong total, ulong system, uint online = 2) =>
        new() { CPUUsage = new CPUUsage { TotalUsage = total }, SystemUsage = system, OnlineCPUs = online };

    [Fact]
    public void Cpu_percent_is_the_containers_share_of_system_time_times_the_cpus()
    {
        // 0.5 s of the container's CPU time while the 2-CPU host spent 2 s: one core at 50 %.
        Assert.Equal(50.0, ContainerUsage.CpuPercent(Cpu(1_500_000_000, 12_000_000_000), Cpu(1_000_000_000, 10_000_000_000)), 6);
    }

    [Fact]
    public void Cpu_percent_counts_the_per_cpu_figures_when_online_cpus_is_missing()
    {
        var now = Cpu(3_000_000_000, 14_000_000_000, online: 0);
        now.CPUUsage.PercpuUsage = [1, 2, 3, 4];

        Assert.Equal(100.0, ContainerUsage.CpuPercent(now, Cpu(2_000_000_000, 10_000_000_000)), 6);
    }

    [Fact]
    public void Cpu_percent_is_zero_without_an_earlier_sample_or_without_progress()
    {
        Assert.Equal(0, ContainerUsage.CpuPercent(Cpu(1_000, 10_000), new CPUStats()));
        Assert.Equal(0, ContainerUsage.CpuPercent(Cpu(1_000, 10_000), Cpu(0, 0))); // a one-shot sample has zeros before
        Assert.Equal(0, ContainerUsage.CpuPercent(Cpu(1_000, 10_000), Cpu(1_000, 5_000)));
        Assert.Equal(0, ContainerUsage.CpuPercent(null, null));
    }

    [Fact]
    public void Memory_leaves_out_the_inactive_page_cache_on_cgroup_v1_and_v2()
    {
        Assert.Equal(7_000, ContainerUsage.MemoryBytes(new MemoryStats { Usage = 10_000, Stats = new Dictionary<string, ulong> { ["total_inactive_file"] = 3_000 } }));
        Assert.Equal(6_000, ContainerUsage.MemoryBytes(new MemoryStats { Usage = 10_000, Stats = new Dictionary<string, ulong> { ["inactive_file"] = 4_000 } }));
        Assert.Equal(10_000, ContainerUsage.MemoryBytes(new MemoryStats { Usage = 10_000 }));
        Assert.Equal(10_000, ContainerUsage.MemoryBytes(new MemoryStats { Usage = 10_000, Stats = new Dictionary<string, ulong> { ["inactive_file"] = 20_000 } }));
        Assert.Equal(0, ContainerUsage.MemoryBytes(null));
    }

    [Fact]
    public void Network_bytes_are_summed_over_the_networks()
    {
        var networks = new Dictionary<string, NetworkStats>
        {
            ["eth0"] = new() { RxBytes = 100, TxBytes = 10 },
            ["eth1"] = new() { RxBytes = 50, TxBytes = 5 },
        };

        Assert.Equal((150L, 15L), ContainerUsage.NetworkBytes(networks));
        Assert.Equal((0L, 0L), ContainerUsage.NetworkBytes(null));
    }
}
