using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Serilog.Events;

namespace Motey.Host.Configuration;

/// <summary>
/// Reads one typed value of config.ini, or throws a <see cref="ConfigException"/> that says where (file and line, from
/// <paramref name="where"/>) and what.
/// </summary>
internal sealed class ConfigReader(IConfiguration raw, string baseDirectory, Func<string, string, string> where)
{
    public string Text(string section, string key, bool allowEmpty = false)
    {
        var value = (raw[$"{section}:{key}"] ?? "").Trim();
        if (!allowEmpty && value.Length == 0) throw Bad(section, key, value, "a non-empty value");
        return value;
    }

    public string FilePath(string section, string key) => Path.GetFullPath(Text(section, key), baseDirectory);

    /// <summary>The absolute path of a file setting, or null when it is empty.</summary>
    public string? OptionalFilePath(string section, string key) =>
        Text(section, key, allowEmpty: true).Length > 0 ? FilePath(section, key) : null;

    public bool Bool(string section, string key)
    {
        var text = Text(section, key);
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw Bad(section, key, text, "true or false"),
        };
    }

    /// <summary>Where <paramref name="section"/> <paramref name="key"/> is set: file and line, or the embedded defaults.</summary>
    public string Where(string section, string key) => where(section, key);

    public int Int(string section, string key, int min, int max)
    {
        var text = Text(section, key);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw Bad(section, key, text, $"a whole number from {min} to {max}");
        return value;
    }

    public int Port(string section, string key, bool allowZero = false) => Int(section, key, allowZero ? 0 : 1, 65535);

    public TimeSpan Seconds(string section, string key)
    {
        var text = Text(section, key);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > 86_400)
            throw Bad(section, key, text, "a number of seconds greater than 0 (at most 86400)");
        return TimeSpan.FromSeconds(value);
    }

    public string Ip(string section, string key)
    {
        var text = Text(section, key);
        if (!IPAddress.TryParse(text, out _)) throw Bad(section, key, text, "an IP address such as 127.0.0.1");
        return text;
    }

    public string Choice(string section, string key, params string[] choices)
    {
        var text = Text(section, key);
        if (!choices.Contains(text, StringComparer.Ordinal)) throw Bad(section, key, text, "one of " + string.Join(", ", choices));
        return text;
    }

    public string Endpoint(string section, string key)
    {
        var text = Text(section, key);
        if (!text.StartsWith("tcp://", StringComparison.Ordinal) && !text.StartsWith("ipc://", StringComparison.Ordinal))
            throw Bad(section, key, text, "a ZeroMQ endpoint such as tcp://127.0.0.1:5090");
        return text;
    }

    public LogEventLevel LogLevel(string section, string key)
    {
        var text = Text(section, key);
        if (!Enum.TryParse<LogEventLevel>(text, ignoreCase: true, out var level) || !Enum.IsDefined(level) || int.TryParse(text, out _))
            throw Bad(section, key, text, "one of " + string.Join(", ", Enum.GetNames<LogEventLevel>()));
        return level;
    }

    public ConfigException Bad(string section, string key, string value, string expected) =>
        new($"{where(section, key)}: [{section}] {key} = '{value}' is invalid: expected {expected}");
}
