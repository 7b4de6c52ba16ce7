using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using Motey.Host.Configuration;

namespace Motey.Host.CommandLine;

/// <summary>
/// motey start / stop / restart / status (the seed's daemon mode, without its 100% CPU spin and its stop
/// that did not stop). Exit codes follow LSB init scripts: 0 done; 1 failed; 3 (status) not running.
/// </summary>
internal static class DaemonCommands
{
    public const int NotRunning = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Starts the agent detached from the terminal and returns once it answers its heartbeat.</summary>
    public static async Task<int> StartAsync(MoteySettings settings, TextWriter output)
    {
        var pidFile = new PidFile(settings.General.PidFile);
        if (pidFile.ReadLive() is { } running)
        {
            output.WriteLine($"motey: already running (pid {running}, pid file {pidFile.Path})");
            return 1;
        }
        if (pidFile.Read() is { } stale)
        {
            output.WriteLine($"motey: removing stale pid file {pidFile.Path} (pid {stale} is not running)");
            pidFile.Delete();
        }

        using var child = Process.Start(DetachedStart(settings))
            ?? throw new InvalidOperationException("could not start the agent process");
        var url = $"http://{Host(settings.WebServer.Ip)}:{settings.WebServer.Port}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (child.HasExited)
            {
                output.WriteLine($"motey: the agent exited with code {child.ExitCode} while starting; see {settings.Logger.FilePath}");
                return 1;
            }
            if (await AnswersAsync(http, url))
            {
                output.WriteLine($"motey: started (pid {child.Id}), REST on {url}, log {settings.Logger.FilePath}");
                return 0;
            }
            await Task.Delay(100);
        }
        output.WriteLine($"motey: the agent (pid {child.Id}) did not answer {url}/v1/heartbeat within {StartTimeout.TotalSeconds} s; see {settings.Logger.FilePath}");
        return 1;
    }

    /// <summary>Stops exactly the agent the pid file names: SIGTERM, then waits for it to exit.</summary>
    public static async Task<int> StopAsync(MoteySettings settings, TextWriter output)
    {
        var pidFile = new PidFile(settings.General.PidFile);
        if (pidFile.ReadLive() is not { } pid)
        {
            if (pidFile.Read() is { } stale)
            {
                pidFile.Delete();
                output.WriteLine($"motey: not running (stale pid file {pidFile.Path} for pid {stale} removed)");
            }
            else
            {
                output.WriteLine("motey: not running");
            }
            return 0;
        }
        if (Kill(pid, SigTerm) != 0)
        {
            output.WriteLine($"motey: could not signal pid {pid}: errno {Marshal.GetLastPInvokeError()}");
            return 1;
        }
        var clock = Stopwatch.StartNew();
        while (PidFile.IsMotey(pid))
        {
            if (clock.Elapsed > StopTimeout)
            {
                output.WriteLine($"motey: pid {pid} did not stop within {StopTimeout.TotalSeconds} s");
                return 1;
            }
            await Task.Delay(100);
        }
        pidFile.DeleteIfOwnedBy(pid);
        output.WriteLine($"motey: stopped (pid {pid})");
        return 0;
    }

    public static async Task<int> StatusAsync(MoteySettings settings, TextWriter output)
    {
        var pidFile = new PidFile(settings.General.PidFile);
        if (pidFile.ReadLive() is not { } pid)
        {
            output.WriteLine(pidFile.Read() is { } stale
                ? $"motey: not running (stale pid file {pidFile.Path} names pid {stale})"
                : "motey: not running");
            return NotRunning;
        }
        var url = $"http://{Host(settings.WebServer.Ip)}:{settings.WebServer.Port}";
        output.WriteLine($"motey: running (pid {pid})");
        output.WriteLine($"  REST:         {url}");
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var heartbeat = await http.GetAsync("/v1/heartbeat");
            output.WriteLine($"  heartbeat:    {(int)heartbeat.StatusCode} {(heartbeat.StatusCode == HttpStatusCode.NoContent ? "healthy" : "unhealthy")}");
            var plugins = await http.GetFromJsonAsync<List<JsonElement>>("/v1/plugins") ?? [];
            output.WriteLine($"  plugins:      {string.Join(", ", plugins.Select(p => $"{p.GetProperty("name").GetString()} ({p.GetProperty("state").GetString()})"))}");
            var capabilities = await http.GetFromJsonAsync<List<JsonElement>>("/v1/capabilities") ?? [];
            output.WriteLine($"  capabilities: {capabilities.Count}");
            var nodes = await http.GetFromJsonAsync<List<JsonElement>>("/v1/nodes") ?? [];
            output.WriteLine($"  nodes:        {nodes.Count} ({string.Join(", ", nodes.Select(n => n.GetProperty("ip").GetString()))})");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            output.WriteLine($"  REST:         not answering ({e.Message})");
        }
        return 0;
    }

    /// <summary>
    /// `motey run --daemon` in a session of its own (setsid: no controlling terminal, its own process group)
    /// with stdin, stdout and stderr on /dev/null; the agent then logs to its log file only. sh and setsid
    /// exec, so the process started here is the agent itself.
    /// </summary>
    private static readonly string[] SetsidPaths = ["/usr/bin/setsid", "/bin/setsid"];

    private static ProcessStartInfo DetachedStart(MoteySettings settings)
    {
        var setsid = SetsidPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("setsid (util-linux) is needed to detach the agent");
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable runs motey");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var arg in new[] { "-c", "exec \"$0\" \"$@\" </dev/null >/dev/null 2>&1", setsid, self }) info.ArgumentList.Add(arg);
        // Run through `dotnet motey.dll`: the entry assembly must be named again.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(DaemonCommands).Assembly.Location);
        info.ArgumentList.Add("run");
        info.ArgumentList.Add("--daemon");
        if (settings.SourceFile is not null)
        {
            info.ArgumentList.Add("--config");
            info.ArgumentList.Add(settings.SourceFile);
        }
        return info;
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string url)
    {
        try
        {
            return (await http.GetAsync($"{url}/v1/heartbeat")).StatusCode == HttpStatusCode.NoContent;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>An address a client can reach the server on: 0.0.0.0 / :: mean "this host".</summary>
    private static string Host(string ip) => ip switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when ip.Contains(':') => $"[{ip}]",
        _ => ip,
    };

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
