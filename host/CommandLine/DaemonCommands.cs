using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Host.Configuration;
using Motey.Host.Security;

namespace Motey.Host.CommandLine;

/// <summary>
/// motey stop and status, the rest of the seed's daemon mode (without its 100% CPU spin and its stop that did not stop;
/// start is <see cref="StartCommand"/>). Exit codes follow LSB init scripts: 0 done; 1 failed; 3 (status) not running.
/// status answers 1 too when the agent runs but its heartbeat is not 204 (a container's HEALTHCHECK runs it).
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
        output.WriteLine($"motey: running (pid {pid})");
        output.WriteLine($"  REST:         {RestUrl(settings)}");
        if (settings.WebServer.TlsClientCa is not null)
        {
            // The handshake itself needs a client certificate: not even the heartbeat answers without one.
            WriteSecurity(output, SecurityPosture.Of(settings), "as config.ini says");
            output.WriteLine("  API:          not asked: it requires a client certificate ([WEBSERVER] tls_client_ca) and motey status has none; "
                + "ask it with one, e.g. curl --cert CERT --key KEY --cacert CA");
            return 0;
        }
        TokenEntry? token = null;
        try
        {
            token = NodeClient.Token(settings);
        }
        catch (ConfigException e)
        {
            output.WriteLine($"  token:        none usable ({e.Message}): only the heartbeat answers");
        }
        using var http = NodeClient.Create(settings, TimeSpan.FromSeconds(5), token);
        var healthy = false;
        try
        {
            var heartbeat = await http.GetAsync("/v1/heartbeat");
            healthy = heartbeat.StatusCode == HttpStatusCode.NoContent;
            output.WriteLine($"  heartbeat:    {(int)heartbeat.StatusCode} {(healthy ? "healthy" : "unhealthy")}");
            WriteSecurity(output, await GetAsync<SecurityPosture>(http, "/v1/security", token), "as the node says");
            var plugins = await GetAsync<List<JsonElement>>(http, "/v1/plugins", token);
            output.WriteLine($"  plugins:      {string.Join(", ", plugins.Select(p => $"{p.GetProperty("name").GetString()} ({p.GetProperty("state").GetString()})"))}");
            var capabilities = await GetAsync<List<JsonElement>>(http, "/v1/capabilities", token);
            output.WriteLine($"  capabilities: {capabilities.Count}");
            var nodes = await GetAsync<List<JsonElement>>(http, "/v1/nodes", token);
            output.WriteLine($"  nodes:        {nodes.Count} ({string.Join(", ", nodes.Select(n => n.GetProperty("ip").GetString()))})");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            output.WriteLine($"  REST:         not answering ({Reason(e, settings)})");
        }
        return healthy ? 0 : 1;
    }

    /// <summary>The security line (OPEN in capitals when open), then each warning on a line of its own.</summary>
    private static void WriteSecurity(TextWriter output, SecurityPosture posture, string source)
    {
        output.WriteLine($"  security:     {posture.Summary()} ({source})");
        foreach (var warning in posture.Warnings) output.WriteLine($"  WARNING:      {warning}");
    }

    private static async Task<T> GetAsync<T>(HttpClient http, string path, TokenEntry? token)
    {
        using var response = await http.GetAsync(path);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode}: "
                + (token is null ? "the node wants a token, and config.ini names no [WEBSERVER] tokens file"
                    : $"the node refused the {RestRoles.Name(token.Role)} token of line {token.Line} of [WEBSERVER] tokens "
                        + "(was the file changed since the node started? it reads it at start)"));
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>() ?? throw new JsonException($"GET {path} answered null");
    }

    /// <summary>Why a request failed, with a hint for the TLS case (the certificate is pinned to the node's file).</summary>
    private static string Reason(Exception e, MoteySettings settings) =>
        e is HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException } && settings.WebServer.Https
            ? $"{e.Message}: the node's certificate is not the one in [WEBSERVER] tls_certificate (renewed since it started? restart it)"
            : e.Message;

    /// <summary>The REST API's address as a client reaches it.</summary>
    public static string RestUrl(MoteySettings settings) =>
        $"{(settings.WebServer.Https ? "https" : "http")}://{Host(settings.WebServer.Ip)}:{settings.WebServer.Port}";

    /// <summary>An address a client can reach the server on: 0.0.0.0 / :: mean "this host".</summary>
    private static string Host(string ip) => ip switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when ip.Contains(':') => $"[{ip}]",
        _ => ip,
    };

}
