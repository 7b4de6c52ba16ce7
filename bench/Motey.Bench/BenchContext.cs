using System.Diagnostics;
using System.Globalization;

namespace Motey.Bench;

/// <summary>What every benchmark needs: the programs under test, the settings of this run, and where to write.</summary>
internal sealed class BenchContext
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _addresses;
    private int _folders;

    public required string AgentExecutable { get; init; }
    public required string BareExecutable { get; init; }
    public required string FloorExecutable { get; init; }
    /// <summary>The compiled plugin the floor app loads: the agent's shipped simulated VAL.</summary>
    public required string FloorPlugin { get; init; }
    public required string BenchExecutable { get; init; }
    public required string WorkFolder { get; init; }
    public required string ResultsFolder { get; init; }
    public int Runs { get; init; } = 5;
    public int WrkSeconds { get; init; } = 3;
    public int PeerTimeoutSeconds { get; init; } = 2;
    public int Events { get; init; } = 10_000;
    public int FootprintRequests { get; init; } = 100_000;
    public string DockerUrl { get; init; } = "unix:///var/run/docker.sock";

    /// <summary>The scale sections' fake peers behave as today's main (no presence, every nodes_request answered): the "before".</summary>
    public bool LegacyPeers { get; init; }
    /// <summary>Timed placements per target (last capable, random capable) per agent in the scale sections.</summary>
    public int Placements { get; init; } = 20;

    /// <summary>
    /// Untimed placements on each scale agent before its measured ones (<c>--warm-up</c>, default 1), to random capable
    /// peers: the remote path is rejitted to tier 1 during a fresh agent's first ~100 placements, which the measured
    /// series otherwise pays (half the agent's CPU in the first series at N = 1,000).
    /// </summary>
    public int WarmUp { get; init; } = 1;
    public int[] ScaleSizes { get; init; } = [300, 1000, 2000];
    public int[] JoinSizes { get; init; } = [300, 1000, 2000];
    public string[] JoinBrokers { get; init; } = ["embedded", "mosquitto", "bridged"];
    public int JoinTimeoutSeconds { get; init; } = 90;
    public int FootprintPeers { get; init; } = 1000;

    /// <summary>[LOGGER] level for every agent; null keeps the agent's default (Information), as users run it.</summary>
    public string? AgentLogLevel { get; init; }

    /// <summary>Bodies captured from a seeded agent; the bare app answers exactly these.</summary>
    public byte[]? CapabilitiesBody { get; set; }
    public byte[]? ServiceBody { get; set; }

    /// <summary>
    /// A loopback address nothing else of this run uses: every agent and bare app gets its own, so the default ports
    /// (REST 5023, MQTT 1883, ZeroMQ 5090–5094) never clash with another run, a test, or a socket in TIME_WAIT.
    /// </summary>
    public string NextAddress()
    {
        var n = Interlocked.Increment(ref _addresses);
        return $"127.77.{20 + Environment.ProcessId % 200}.{n % 250 + 1}";
    }

    public string NewFolder(string name)
    {
        var folder = Path.Combine(WorkFolder, $"{Interlocked.Increment(ref _folders):000}-{name}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public void Log(string message) =>
        Console.Error.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:0.0}s] {message}");

    /// <summary>The 1-, 5- and 15-minute load averages, as the kernel reports them.</summary>
    public static string LoadAverage() =>
        string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static double Load1() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
