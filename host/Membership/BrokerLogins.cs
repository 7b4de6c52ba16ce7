using System.Security.Cryptography;
using System.Text;
using Motey.Host.Configuration;

namespace Motey.Host.Membership;

/// <summary>
/// The logins the embedded broker accepts: those of [MQTT] password_file; without one, this node's own [MQTT]
/// username/password alone; without those, anyone (<see cref="From"/> is null). Passwords are compared in constant time.
/// </summary>
internal sealed class BrokerLogins
{
    private readonly MosquittoPasswordFile? _file;
    private readonly (string User, byte[] Password)? _own;

    private BrokerLogins(MosquittoPasswordFile? file, (string, byte[])? own)
    {
        _file = file;
        _own = own;
    }

    /// <summary>Where the logins come from, for the log.</summary>
    public string Source => _file is not null ? $"[MQTT] password_file {_file.Path} ({_file.Count} logins)" : "[MQTT] username/password";

    /// <summary>
    /// The logins <paramref name="mqtt"/> names. <see cref="InvalidOperationException"/> (the start stops) when the
    /// password file cannot be read, has a line it cannot read (file:line), or does not hold this node's own login: the
    /// node joins its own broker with [MQTT] username/password.
    /// </summary>
    public static BrokerLogins? From(MqttSettings mqtt)
    {
        if (mqtt.PasswordFile is not { } path)
            return mqtt.Username is { } user ? new BrokerLogins(null, (user, Encoding.UTF8.GetBytes(mqtt.Password ?? ""))) : null;
        MosquittoPasswordFile file;
        try
        {
            file = MosquittoPasswordFile.Load(path);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"[MQTT] password_file {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new InvalidOperationException($"[MQTT] password_file {path} cannot be read: {e.Message}", e);
        }
        if (mqtt.Username is not { } own)
        {
            throw new InvalidOperationException($"[MQTT] password_file {path} is set, so the embedded broker wants a login, but this node "
                + "has none to join it: set [MQTT] username and password to one of the file's logins");
        }
        switch (file.Check(own, Encoding.UTF8.GetBytes(mqtt.Password ?? "")))
        {
            case LoginCheck.UnknownUser:
                throw new InvalidOperationException($"[MQTT] password_file {path} has no login for this node's [MQTT] username '{own}', "
                    + $"so it could not join its own broker: add it (mosquitto_passwd -b {path} {own} PASSWORD) or use one of the file's logins");
            case LoginCheck.WrongPassword:
                throw new InvalidOperationException($"[MQTT] password_file {path} has user '{own}' with another password than this node's "
                    + "[MQTT] password, so it could not join its own broker: set the same password in both");
        }
        return new BrokerLogins(file, null);
    }

    public bool Accepts(string? user, ReadOnlySpan<byte> password)
    {
        if (_file is not null) return _file.Accepts(user, password);
        var (ownUser, ownPassword) = _own!.Value;
        // Both compared, always, so the answer takes as long whichever is wrong.
        var userMatches = CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(user ?? ""), Encoding.UTF8.GetBytes(ownUser));
        var passwordMatches = CryptographicOperations.FixedTimeEquals(password, ownPassword);
        return user is not null && userMatches && passwordMatches;
    }
}
