using System.Globalization;
using System.Net;
using System.Text;
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

    /// <summary>
    /// A ZeroMQ endpoint: <c>tcp://host:port</c>, or <c>ipc://path</c> (a Unix socket). A bare path means <c>ipc://path</c>,
    /// as the original Motey bound <c>'ipc://%s' % capability_engine_ipc_path</c>. Relative socket paths resolve against
    /// the config file's folder, like every path in config.ini, so the endpoint returned names an absolute path.
    /// </summary>
    public string Endpoint(string section, string key)
    {
        const string expected = "a ZeroMQ endpoint such as tcp://127.0.0.1:5090, or a Unix socket path such as /tmp/capability_engine.ipc "
            + "(the same as ipc:///tmp/capability_engine.ipc)";
        var text = Text(section, key);
        if (text.StartsWith("tcp://", StringComparison.Ordinal)) return text;
        string path;
        if (text.StartsWith("ipc://", StringComparison.Ordinal)) path = text["ipc://".Length..];
        else if (text.Contains("://", StringComparison.Ordinal)) throw Bad(section, key, text, expected);
        // A port alone is a slip, not a socket named "5090" in the config folder.
        else if (text.All(char.IsAsciiDigit)) throw Bad(section, key, text, $"{expected}; for a port write tcp://127.0.0.1:{text}");
        // host:port without its scheme is a slip too, not a socket named "127.0.0.1:5090".
        else if (LooksLikeHostAndPort(text)) throw Bad(section, key, text, $"{expected}; for a TCP endpoint write tcp://{text}");
        else path = text;
        // An abstract socket (@name) has no file, hence no permissions to say who may publish.
        if (path.StartsWith('@')) throw Bad(section, key, text, $"{expected}; an abstract socket (@name) has no file whose permissions decide who publishes");
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal)) throw Bad(section, key, text, expected);
        var full = Path.GetFullPath(path, baseDirectory);
        // sun_path holds 108 bytes with the terminating NUL: a longer path cannot be bound (libzmq says "File name too long").
        var bytes = Encoding.UTF8.GetByteCount(full);
        if (bytes > MaxSocketPathBytes)
            throw Bad(section, key, text, $"a Unix socket path of at most {MaxSocketPathBytes} bytes ({full} has {bytes}): choose a shorter one");
        return "ipc://" + full;
    }

    /// <summary><c>127.0.0.1:5090</c>, <c>localhost:5090</c>, <c>[::1]:5090</c>: a host (no slash) and a port.</summary>
    private static bool LooksLikeHostAndPort(string text)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0 && colon < text.Length - 1 && !text.Contains('/', StringComparison.Ordinal)
            && text[(colon + 1)..].All(char.IsAsciiDigit);
    }

    /// <summary>The longest path a Unix-domain socket may have on Linux (sun_path less its terminating NUL).</summary>
    public const int MaxSocketPathBytes = 107;

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
