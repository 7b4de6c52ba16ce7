using System.Net;

namespace Motey.Bench;

/// <summary>
/// A baseline the agent is measured against, answering the agent's captured bytes: bench/Motey.Bench.Bare (a bare
/// Kestrel app) or bench/Motey.Bench.Floor (the bare app plus the least use of each library the agent's stack mandates).
/// </summary>
internal sealed class BareApp : IAsyncDisposable
{
    public const int Port = 5023;

    private readonly string _name;

    private BareApp(ChildProcess process, string address, string name)
    {
        Process = process;
        Address = address;
        _name = name;
    }

    public ChildProcess Process { get; }
    public string Address { get; }
    public string BaseUrl => $"http://{Address}:{Port}";

    /// <summary>Starts the bare app on a loopback address of its own, answering the bodies the context holds (or <c>[]</c>).</summary>
    public static BareApp Start(BenchContext context) => Start(context, context.BareExecutable, "bare", (_, _) => []);

    /// <summary>
    /// Starts the floor app likewise; its broker and ROUTER take the agent's default ports on its own address, its
    /// SQLite file and log its folder, and it loads the agent's shipped simulated VAL.
    /// </summary>
    public static BareApp StartFloor(BenchContext context) => Start(context, context.FloorExecutable, "floor", (address, folder) =>
        ["--address", address, "--data", folder, "--plugin", context.FloorPlugin]);

    private static BareApp Start(BenchContext context, string executable, string name, Func<string, string, IEnumerable<string>> extra)
    {
        var address = context.NextAddress();
        var folder = context.NewFolder(name);
        var arguments = new List<string> { "--urls", $"http://{address}:{Port}" };
        arguments.AddRange(extra(address, folder));
        if (context.CapabilitiesBody is { } capabilities)
        {
            var file = Path.Combine(folder, "capabilities.json");
            File.WriteAllBytes(file, capabilities);
            arguments.AddRange(["--capabilities", file]);
        }
        if (context.ServiceBody is { } services)
        {
            var file = Path.Combine(folder, "service.json");
            File.WriteAllBytes(file, services);
            arguments.AddRange(["--service", file]);
        }
        return new BareApp(ChildProcess.Start(executable, arguments, Path.Combine(folder, $"{name}.log")), address, name);
    }

    /// <summary>Polls GET /ping every 10 ms until 200; returns the time since the process was started.</summary>
    public async Task<TimeSpan> WaitReadyAsync()
    {
        using var probe = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (Process.HasExited) throw new BenchException($"the {_name} app exited:\n{Process.Tail()}");
            try
            {
                using var response = await probe.GetAsync("/ping");
                if (response.StatusCode == HttpStatusCode.OK) return Process.SinceStart.Elapsed;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new BenchException($"the {_name} app did not answer:\n{Process.Tail()}");
            await Task.Delay(10);
        }
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
