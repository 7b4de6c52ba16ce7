using System.Net.Sockets;

namespace Motey.Bench;

/// <summary>
/// A mosquitto broker of the benchmark's own on a loopback address (as tests/Motey.EndToEnd.Tests/MosquittoBroker.cs
/// starts it): anonymous, no persistence, <c>sys_interval 1</c> so its $SYS counters are at most a second old;
/// optionally bridged to another one (<c>connection</c>, <c>address</c>, <c>topic motey/# both 0</c>).
/// </summary>
internal sealed class Mosquitto : IAsyncDisposable
{
    public const int Port = 1883;

    private Mosquitto(ChildProcess process, string address)
    {
        Process = process;
        Address = address;
    }

    public ChildProcess Process { get; }
    public string Address { get; }
    public string Endpoint => $"{Address}:{Port}";

    public static string Binary =>
        new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto" }.FirstOrDefault(File.Exists)
        ?? throw new BenchException("mosquitto is not installed: run scripts/test-services.sh (bench/run.sh does)");

    public static async Task<Mosquitto> StartAsync(BenchContext context, string name, Mosquitto? bridgeTo = null)
    {
        var address = context.NextAddress();
        var folder = context.NewFolder(name);
        var config = Path.Combine(folder, "mosquitto.conf");
        var bridge = bridgeTo is null ? "" : $"""
            connection bench-{name}
            address {bridgeTo.Endpoint}
            topic motey/# both 0
            cleansession true
            notifications false
            """;
        File.WriteAllText(config, $"listener {Port} {address}\nallow_anonymous true\npersistence false\nsys_interval 1\nuser root\n{bridge}\n");
        var process = ChildProcess.Start(Binary, ["-c", config], Path.Combine(folder, "mosquitto.log"));
        var broker = new Mosquitto(process, address);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (process.HasExited) throw new BenchException($"mosquitto on {address} exited:\n{process.Tail()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(address, Port);
                return broker;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                await broker.DisposeAsync();
                throw new BenchException($"mosquitto on {address} does not accept connections:\n{process.Tail()}");
            }
        }
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
