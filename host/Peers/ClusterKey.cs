using System.Buffers;
using System.Security.Cryptography;
using Motey.Host.Configuration;
using NetMQ;

namespace Motey.Host.Peers;

/// <summary>
/// The cluster's CURVE key pair ([ZEROMQ] cluster_key), the same file on every node. Each node's repliers are CURVE
/// servers with this pair; each request is a CURVE client that names the pair's public key as the server's. NetMQ has
/// no ZAP handler, so a server cannot check a client's key: what keeps a stranger out is that the handshake needs the
/// server's public key, which never crosses the wire. So BOTH halves are secret, whoever holds the file is a member,
/// and nothing here ever prints either half: only <see cref="Fingerprint"/>.
/// </summary>
internal sealed class ClusterKey
{
    public const string DefaultFileName = "cluster.key";

    private const int KeyChars = 40;
    private static readonly SearchValues<char> Z85 =
        SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#");

    private ClusterKey(NetMQCertificate pair)
    {
        Certificate = pair;
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(pair.PublicKey))[..16];
    }

    /// <summary>The pair a CURVE server socket uses (<c>Options.CurveCertificate</c>).</summary>
    public NetMQCertificate Certificate { get; }

    /// <summary>The public half a CURVE client names as the server's (<c>Options.CurveServerKey</c>).</summary>
    public byte[] PublicKey => Certificate.PublicKey;

    /// <summary>The first 16 hex digits of the SHA-256 of the public key: enough to compare two nodes' files, useless for joining.</summary>
    public string Fingerprint { get; }

    /// <summary>Never the key itself.</summary>
    public override string ToString() => $"cluster key {Fingerprint}";

    /// <summary>A fresh random pair.</summary>
    public static ClusterKey Generate() => new(new NetMQCertificate());

    /// <summary>The configured key (<see cref="ZeroMqSettings.ClusterKeyFile"/>), or null when ZeroMQ runs plain.</summary>
    public static ClusterKey? ReadConfigured(ZeroMqSettings settings) => settings.ClusterKeyFile is { } file ? Read(file) : null;

    /// <summary>
    /// The key the capability event listener serves: only with capability_publishers = any on a tcp:// endpoint. Local
    /// publishers (the original's capability engine, `motey capability` on the same host) speak plain ZeroMQ on loopback,
    /// as they always did; an ipc:// endpoint is a Unix socket, local by nature, whose file's permissions decide who publishes.
    /// </summary>
    public static ClusterKey? ForCapabilityEvents(ZeroMqSettings settings) =>
        settings.RemotePublishers && !Zmtp.IpcEndpoint.Is(settings.CapabilityEngineEndpoint) ? ReadConfigured(settings) : null;

    /// <summary>Refuses a configured key file that <see cref="Read"/> refuses, naming config.ini's line and the key file's.</summary>
    public static void Check(ZeroMqSettings settings, ConfigReader r)
    {
        if (settings.ClusterKeyFile is not { } file) return;
        try
        {
            Read(file);
        }
        catch (ClusterKeyException e)
        {
            throw new ConfigException($"{r.Where("ZEROMQ", "cluster_key")}: [ZEROMQ] cluster_key: {e.Message}");
        }
    }

    /// <summary>
    /// Reads a key file: <c>public = Z85</c> and <c>secret = Z85</c> lines (40 characters each), blank lines and <c>#</c>
    /// comments. Throws <see cref="ClusterKeyException"/> naming file and line; the message never holds a key.
    /// </summary>
    public static ClusterKey Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterKeyException($"{path}: cannot read the cluster key: {e.Message}");
        }
        (string Value, int Line)? publicKey = null, secretKey = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var where = $"{path}:{i + 1}";
            // Z85 has '=' and '#' in its alphabet: split at the first '=' only, and no comments after a value.
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? line[..equals].Trim() : "";
            if (name is not ("public" or "secret"))
                throw new ClusterKeyException($"{where}: expected 'public = KEY' or 'secret = KEY' (a file made by `motey keys generate`)");
            if ((name == "public" ? publicKey : secretKey) is { } earlier)
                throw new ClusterKeyException($"{where}: '{name}' is set twice (first on line {earlier.Line})");
            var value = line[(equals + 1)..].Trim();
            if (Z85Problem(value) is { } problem) throw new ClusterKeyException($"{where}: {name}: {problem}");
            if (name == "public") publicKey = (value, i + 1);
            else secretKey = (value, i + 1);
        }
        if (secretKey is not { } secret) throw new ClusterKeyException($"{path}: no 'secret = KEY' line: not a cluster key made by `motey keys generate`");
        if (publicKey is not { } given) throw new ClusterKeyException($"{path}: no 'public = KEY' line: not a cluster key made by `motey keys generate`");
        NetMQCertificate pair;
        try
        {
            pair = NetMQCertificate.CreateFromSecretKey(secret.Value);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            throw new ClusterKeyException($"{path}:{secret.Line}: secret: not a valid Z85 key");
        }
        if (pair.PublicKeyZ85 != given.Value)
        {
            throw new ClusterKeyException($"{path}:{given.Line}: public does not belong to the secret on line {secret.Line} "
                + "(a damaged file, or halves of two keys): copy the file again from the node that made it");
        }
        return new ClusterKey(pair);
    }

    /// <summary>
    /// Writes this key to <paramref name="path"/>, owner-only (mode 600) from the moment it exists. Without
    /// <paramref name="force"/> an existing file is left alone (<see cref="IOException"/>); with it, replaced at once.
    /// </summary>
    public void Write(string path, bool force)
    {
        var text = $"""
            # The CURVE key of a Motey cluster, made by `motey keys generate` on {DateTimeOffset.UtcNow:yyyy-MM-dd}.
            # The same file on every node, named by [ZEROMQ] cluster_key. Whoever holds it is a member of the cluster:
            # both lines are secret (keep it owner-only, chmod 600; copy it only over a channel you trust).
            # Fingerprint (what `motey keys show` prints to compare nodes): {Fingerprint}
            public = {Certificate.PublicKeyZ85}
            secret = {Certificate.SecretKeyZ85}

            """;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        // Written beside the target and renamed over it: never a half-written key, never a moment with wider permissions.
        var temporary = force ? Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp") : path;
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var writer = new StreamWriter(temporary, System.Text.Encoding.ASCII, options)) writer.Write(text);
            if (force) File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (force && File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static string? Z85Problem(string value)
    {
        if (value.Length != KeyChars) return $"not a CURVE key: {KeyChars} characters of Z85 expected, found {value.Length}";
        var bad = value.AsSpan().IndexOfAnyExcept(Z85);
        return bad >= 0 ? $"not a CURVE key: character {bad + 1} is not Z85" : null;
    }
}

/// <summary>A cluster key file that cannot be used; the message names the file and line, never the key.</summary>
internal sealed class ClusterKeyException(string message) : Exception(message);

/// <summary>What makes a bound socket a CURVE server of the cluster: the key pair, and where its refused connections are told.</summary>
internal sealed record CurveServer(ClusterKey Key, HandshakeRefusals Refusals)
{
    /// <summary>Sets <paramref name="socket"/> up as a CURVE server with the cluster's pair (before it binds).</summary>
    public void Secure(NetMQSocket socket)
    {
        socket.Options.CurveServer = true;
        socket.Options.CurveCertificate = Key.Certificate;
    }
}
