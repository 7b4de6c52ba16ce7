using System.Globalization;
using Microsoft.Extensions.Configuration;
using Motey.Abstractions;

namespace Motey.Val.Simulated;

/// <summary>The <c>[SIMULATED]</c> section of config.ini.</summary>
/// <param name="StartDelay">How long an instance is instantiating after its start (<c>start_delay_ms</c>, default 200).</param>
/// <param name="FailureRate">Chance from 0 to 1 that a start ends in Error (<c>failure_rate</c>, default 0).</param>
/// <param name="Seed">Seed of the failure dice (<c>seed</c>), for repeatable runs; null for a random one.</param>
/// <param name="LogInterval">How often a running instance prints a line (<c>log_interval_ms</c>, default 1000).</param>
internal sealed record SimulatedSettings(TimeSpan StartDelay, double FailureRate, int? Seed, TimeSpan LogInterval)
{
    public static readonly TimeSpan DefaultStartDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultLogInterval = TimeSpan.FromMilliseconds(1000);

    /// <summary>Reads the settings; throws <see cref="ValException"/> naming the key and the bad value. Blank means absent.</summary>
    public static SimulatedSettings Read(IConfiguration section)
    {
        var delay = DefaultStartDelay;
        if (Value(section, "start_delay_ms") is { } delayText)
        {
            if (!int.TryParse(delayText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                throw Invalid("start_delay_ms", delayText, "a whole number of milliseconds >= 0");
            }
            delay = TimeSpan.FromMilliseconds(ms);
        }

        var failureRate = 0.0;
        if (Value(section, "failure_rate") is { } rateText)
        {
            if (!double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out failureRate)
                || !(failureRate is >= 0 and <= 1))
            {
                throw Invalid("failure_rate", rateText, "a number from 0.0 to 1.0");
            }
        }

        int? seed = null;
        if (Value(section, "seed") is { } seedText)
        {
            if (!int.TryParse(seedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
            {
                throw Invalid("seed", seedText, "a whole number");
            }
            seed = parsed;
        }

        var logInterval = DefaultLogInterval;
        if (Value(section, "log_interval_ms") is { } intervalText)
        {
            if (!int.TryParse(intervalText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms < 1)
            {
                throw Invalid("log_interval_ms", intervalText, "a whole number of milliseconds >= 1");
            }
            logInterval = TimeSpan.FromMilliseconds(ms);
        }
        return new SimulatedSettings(delay, failureRate, seed, logInterval);
    }

    private static string? Value(IConfiguration section, string key) =>
        section[key] is { } text && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;

    private static ValException Invalid(string key, string value, string expected) =>
        new($"[SIMULATED] {key}: expected {expected}, got '{value}'");
}
