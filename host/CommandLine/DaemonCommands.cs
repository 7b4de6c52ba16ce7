using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Configuration;

namespace Motey.Host.CommandLine;

/// <summary>
/// motey stop and status, the rest of the seed's daemon mode (without its 100% CPU spin and its stop that did not stop;
/// start is <see cref="StartCommand"/>). Exit codes follow LSB init scripts: 0 done; 1 failed; 3 (status) not running.
/// </summary>
internal static class DaemonCommands
{
    public const int NotRunning = 3;
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

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
        if (!Signals.Terminate(pid))
        {
            output.WriteLine($"motey: could not signal pid {pid}: errno {Signals.LastError}");
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
        var url = RestUrl(settings);
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

    /// <summary>The REST API's address as a client reaches it.</summary>
    public static string RestUrl(MoteySettings settings) => $"http://{Host(settings.WebServer.Ip)}:{settings.WebServer.Port}";

    /// <summary>An address a client can reach the server on: 0.0.0.0 / :: mean "this host".</summary>
    private static string Host(string ip) => ip switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when ip.Contains(':') => $"[{ip}]",
        _ => ip,
    };

}
