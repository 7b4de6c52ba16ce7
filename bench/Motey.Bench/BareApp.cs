using System.Net;

namespace Motey.Bench;

/// <summary>The baseline: bench/Motey.Bench.Bare, a bare Kestrel app answering the agent's captured bytes.</summary>
internal sealed class BareApp : IAsyncDisposable
{
    public const int Port = 5023;

    private BareApp(ChildProcess process, string address)
    {
        Process = process;
        Address = address;
    }

    public ChildProcess Process { get; }
    public string Address { get; }
    public string BaseUrl => $"http://{Address}:{Port}";

    /// <summary>Starts it on a loopback address of its own, answering the bodies the context holds (or <c>[]</c>).</summary>
    public static BareApp Start(BenchContext context)
    {
        var address = context.NextAddress();
        var folder = context.NewFolder("bare");
        var arguments = new List<string> { "--urls", $"http://{address}:{Port}" };
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
        return new BareApp(ChildProcess.Start(context.BareExecutable, arguments, Path.Combine(folder, "bare.log")), address);
    }

    /// <summary>Polls GET /ping every 10 ms until 200; returns the time since the process was started.</summary>
    public async Task<TimeSpan> WaitReadyAsync()
    {
        using var probe = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (Process.HasExited) throw new BenchException($"the bare app exited:\n{Process.Tail()}");
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
            if (DateTime.UtcNow > deadline) throw new BenchException($"the bare app did not answer:\n{Process.Tail()}");
            await Task.Delay(10);
        }
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
