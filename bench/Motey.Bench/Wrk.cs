using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Motey.Bench;

/// <summary>What wrk reported for one run.</summary>
internal sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors, string Output)
{
    public long Errors => Non2xx + SocketErrors;
}

/// <summary>
/// wrk (Debian's), one thread so the server keeps the other core, keep-alive connections (wrk's default: HTTP/1.1),
/// latency distribution from --latency.
/// </summary>
internal static partial class Wrk
{
    /// <summary>
    /// Runs wrk for <paramref name="seconds"/> against <paramref name="url"/> with <paramref name="connections"/> connections,
    /// sending each of <paramref name="headers"/> (<c>Name: value</c>) with every request. An https:// URL makes wrk speak
    /// TLS; it does not verify the server's certificate.
    /// </summary>
    public static async Task<WrkResult> RunAsync(string url, int connections, int seconds, string? script = null, string? stopFile = null,
        IEnumerable<string>? headers = null)
    {
        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-t1", $"-c{connections}", $"-d{seconds}s", "--timeout", "10s", "--latency" }) info.ArgumentList.Add(argument);
        foreach (var header in headers ?? [])
        {
            info.ArgumentList.Add("-H");
            info.ArgumentList.Add(header);
        }
        if (script is not null)
        {
            info.ArgumentList.Add("-s");
            info.ArgumentList.Add(script);
        }
        info.ArgumentList.Add(url);
        using var process = Process.Start(info) ?? throw new BenchException("could not start wrk");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (stopFile is not null)
        {
            // The script writes stopFile when its request budget is spent; wrk itself would idle until -d ends.
            while (!process.HasExited && !File.Exists(stopFile)) await Task.Delay(20);
            if (!process.HasExited) ChildProcess.Interrupt(process.Id);
        }
        await process.WaitForExitAsync();
        var text = await output + await errors;
        if (process.ExitCode != 0) throw new BenchException($"wrk exited with {process.ExitCode}: {text}");
        return Parse(text);
    }

    public static WrkResult Parse(string text)
    {
        var rps = Number(RequestsPerSecond().Match(text), "Requests/sec");
        var p50 = Latency(text, "50%");
        var p99 = Latency(text, "99%");
        var requests = (long)Number(RequestCount().Match(text), "requests in");
        var non2xx = Non2xx().Match(text) is { Success: true } n ? long.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        long socketErrors = 0;
        if (SocketErrors().Match(text) is { Success: true } s)
            socketErrors = Enumerable.Range(1, 4).Sum(i => long.Parse(s.Groups[i].Value, CultureInfo.InvariantCulture));
        return new WrkResult(rps, p50, p99, requests, non2xx, socketErrors, text);
    }

    private static double Latency(string text, string percentile)
    {
        var match = Regex.Match(text, $@"^\s+{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        var value = Number(match, $"{percentile} latency");
        return match.Groups[2].Value switch { "us" => value / 1000, "ms" => value, _ => value * 1000 };
    }

    private static double Number(Match match, string what) =>
        match.Success
            ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new BenchException($"wrk's output has no {what}");

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*(\d+) requests in", RegexOptions.Multiline)]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();

    /// <summary>A wrk script that alternates GET /v1/capabilities and GET /v1/service and stops after <paramref name="requests"/> responses.</summary>
    public static string WriteBudgetScript(string folder, int requests, string stopFile)
    {
        var path = Path.Combine(folder, "budget.lua");
        File.WriteAllText(path, $$"""
            -- Alternates the two list endpoints; after {{requests}} responses it stops and tells the driver (stop file).
            local paths = {"/v1/capabilities", "/v1/service"}
            local sent, answered, limit = 0, 0, {{requests}}
            request = function()
              sent = sent + 1
              return wrk.format("GET", paths[(sent % 2) + 1])
            end
            response = function(status, headers, body)
              answered = answered + 1
              if answered == limit then
                local f = io.open("{{stopFile}}", "w"); f:write("done"); f:close()
                wrk.thread:stop()
              end
            end
            """);
        return path;
    }
}
