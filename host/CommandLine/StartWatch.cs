using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Motey.Host.Configuration;

namespace Motey.Host.CommandLine;

/// <summary>How a start ended; <see cref="Unprobed"/>: ready, but its API needs a client certificate `motey start` does not have.</summary>
internal enum StartOutcome { Healthy, Degraded, Exited, Unhealthy, TimedOut, Unprobed }

/// <summary>
/// Watches an agent that `motey start` launched until it is healthy, degraded for good, unhealthy, or gone. Quietly: it
/// reads the agent's output file until the agent itself says it is ready (so a heartbeat answered by another agent on
/// the same address never counts), then asks its heartbeat.
/// </summary>
internal sealed class StartWatch(Process child, MoteySettings settings, string outputFile)
{
    /// <summary>What `motey run --daemon` prints once every part has started and the REST API listens.</summary>
    public const string ReadyLine = "motey: ready";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    // A ready agent that is Degraded has not joined the MQTT broker yet: give its first attempt time to end (the MQTT
    // connect timeout is 10 s), so a broker that refuses the login is reported, not a "started" that is not true.
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(12);

    private enum Health { NotAnswering, Healthy, Degraded, Unhealthy }

    public string Url { get; } = DaemonCommands.RestUrl(settings);

    /// <summary>The agent's own words for why it exited or is unhealthy.</summary>
    public string Reason { get; private set; } = "";

    public async Task<StartOutcome> WaitAsync(TimeSpan timeout)
    {
        // The probes answer without a token; over HTTPS the client trusts the node's own certificate file.
        using var http = NodeClient.Create(settings, TimeSpan.FromSeconds(2));
        var clock = Stopwatch.StartNew();
        TimeSpan? readyAt = null;
        var last = Health.NotAnswering;
        while (clock.Elapsed < timeout)
        {
            if (child.HasExited)
            {
                Reason = FatalLine();
                return StartOutcome.Exited;
            }
            readyAt ??= Output().Contains(ReadyLine, StringComparison.Ordinal) ? clock.Elapsed : null;
            if (readyAt is not null && settings.WebServer.TlsClientCa is not null) return StartOutcome.Unprobed;
            if (readyAt is { } ready)
            {
                (last, var reason) = await ProbeAsync(http);
                switch (last)
                {
                    case Health.Healthy:
                        return StartOutcome.Healthy;
                    case Health.Unhealthy:
                        Reason = reason;
                        return StartOutcome.Unhealthy;
                    case Health.Degraded when clock.Elapsed - ready > SettleTimeout:
                        return StartOutcome.Degraded;
                }
            }
            await Task.Delay(Poll);
        }
        return last == Health.Degraded ? StartOutcome.Degraded : StartOutcome.TimedOut;
    }

    /// <summary>The heartbeat: 204 healthy (then /healthz tells Healthy from Degraded), 400 unhealthy with its problem details.</summary>
    private static async Task<(Health, string)> ProbeAsync(HttpClient http)
    {
        try
        {
            using var heartbeat = await http.GetAsync("/v1/heartbeat");
            if (heartbeat.StatusCode == HttpStatusCode.BadRequest)
                return (Health.Unhealthy, ProblemText(await heartbeat.Content.ReadAsStringAsync()));
            if (heartbeat.StatusCode != HttpStatusCode.NoContent) return (Health.NotAnswering, "");
            using var healthz = await http.GetAsync("/healthz");
            return (await healthz.Content.ReadAsStringAsync()).Trim() switch
            {
                "Healthy" => (Health.Healthy, ""),
                "Degraded" => (Health.Degraded, ""),
                _ => (Health.NotAnswering, ""),
            };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (Health.NotAnswering, "");
        }
    }

    /// <summary>The detail of a problem details body (what failed and why), else the body as text.</summary>
    internal static string ProblemText(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            foreach (var name in new[] { "detail", "title" })
            {
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(name, out var value)
                    && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
                    return text;
            }
        }
        catch (JsonException)
        {
        }
        var plain = body.Trim();
        return plain.Length == 0 ? "the heartbeat answered 400 without a reason" : plain.Length > 500 ? plain[..500] + "…" : plain;
    }

    /// <summary>
    /// The agent's last word: its "motey: cannot start: …" line (without "motey: "), else the runtime's "Unhandled
    /// exception." line, else its last line.
    /// </summary>
    private string FatalLine()
    {
        var lines = Output().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var said = lines.LastOrDefault(l => l.StartsWith("motey: ", StringComparison.Ordinal) && !l.StartsWith(ReadyLine, StringComparison.Ordinal));
        if (said is not null) return said["motey: ".Length..];
        return lines.FirstOrDefault(l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal))
            ?? lines.LastOrDefault()
            ?? $"it printed nothing to {outputFile}";
    }

    private string Output()
    {
        try
        {
            using var stream = new FileStream(outputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
