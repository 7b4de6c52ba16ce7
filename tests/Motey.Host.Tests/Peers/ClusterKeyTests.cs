using Motey.Host.Configuration;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>The cluster key file: what `motey keys generate` writes and what every node reads, on real files.</summary>
public sealed class ClusterKeyTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly TestFolder _folder = new();

    private string PathOf(string name) => Path.Combine(_folder.Path, name);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_generated_key_is_written_owner_only_and_reads_back_as_the_same_key()
    {
        var key = ClusterKey.Generate();
        var path = PathOf("cluster.key");
        key.Write(path, force: false);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        var read = ClusterKey.Read(path);
        Assert.Equal(key.PublicKey, read.PublicKey);
        Assert.Equal(key.Certificate.SecretKey, read.Certificate.SecretKey);
        Assert.Equal(key.Fingerprint, read.Fingerprint);
        Assert.Matches("^[0-9a-f]{16}$", read.Fingerprint);
        Assert.DoesNotContain(key.Certificate.PublicKeyZ85!, read.ToString(), StringComparison.Ordinal);
        Assert.NotEqual(key.Fingerprint, ClusterKey.Generate().Fingerprint);
    }

    [Fact]
    public void An_existing_key_file_is_kept_unless_forced_and_a_forced_one_is_owner_only()
    {
        var path = PathOf("cluster.key");
        var first = ClusterKey.Generate();
        first.Write(path, force: false);

        Assert.Throws<IOException>(() => ClusterKey.Generate().Write(path, force: false));
        Assert.Equal(first.Fingerprint, ClusterKey.Read(path).Fingerprint);

        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var second = ClusterKey.Generate();
        second.Write(path, force: true);
        Assert.Equal(second.Fingerprint, ClusterKey.Read(path).Fingerprint);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(["cluster.key"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));  // no temporary file left
    }

    public static TheoryData<string, string> DamagedFiles()
    {
        var key = ClusterKey.Generate();
        var other = ClusterKey.Generate();
        var (pub, sec) = (key.Certificate.PublicKeyZ85!, key.Certificate.SecretKeyZ85!);
        return new TheoryData<string, string>
        {
            { $"# comment\npublic = {pub}\n", ": no 'secret = KEY' line" },
            { $"secret = {sec}\n", ": no 'public = KEY' line" },
            { $"public = {pub}\nsecret = {sec[..39]}\n", ":2: secret: not a CURVE key: 40 characters of Z85 expected, found 39" },
            { $"public = {pub}\nsecret = {sec[..10]}\"{sec[11..]}\n", ":2: secret: not a CURVE key: character 11 is not Z85" },
            { $"public = {other.Certificate.PublicKeyZ85}\n\nsecret = {sec}\n", ":1: public does not belong to the secret on line 3" },
            { $"public = {pub}\nsecret = {sec}\nsecret = {sec}\n", ":3: 'secret' is set twice (first on line 2)" },
            { $"publik = {pub}\nsecret = {sec}\n", ":1: expected 'public = KEY' or 'secret = KEY'" },
            { "", ": no 'secret = KEY' line" },
        };
    }

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void A_damaged_key_file_is_refused_naming_file_and_line_but_never_the_key(string content, string expected)
    {
        var path = PathOf("cluster.key");
        File.WriteAllText(path, content);

        var error = Assert.Throws<ClusterKeyException>(() => ClusterKey.Read(path));
        Assert.Contains(path + expected, error.Message);
        foreach (var value in content.Split('\n').Select(l => l.Split('=', 2)).Where(p => p.Length == 2).Select(p => p[1].Trim()))
            Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_naming_a_damaged_key_file_is_refused_at_its_line_and_the_key_files_line()
    {
        var key = PathOf("cluster.key");
        File.WriteAllText(key, $"public = {ClusterKey.Generate().Certificate.PublicKeyZ85}\nsecret = {ClusterKey.Generate().Certificate.SecretKeyZ85}\n");
        File.SetUnixFileMode(key, OwnerOnly);
        var config = PathOf("config.ini");
        File.WriteAllText(config, $"[ZEROMQ]\ncluster_key = {key}\n");

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
        Assert.StartsWith($"{config}:2: [ZEROMQ] cluster_key: {key}:1: public does not belong to the secret on line 2", error.Message);
    }

    [Fact]
    public void A_config_naming_a_good_key_file_loads_and_the_key_reads_as_configured()
    {
        var key = ClusterKey.Generate();
        var path = PathOf("cluster.key");
        key.Write(path, force: false);
        var config = PathOf("config.ini");
        File.WriteAllText(config, "[ZEROMQ]\ncluster_key = cluster.key\ncapability_publishers = any\n");

        var settings = ConfigLoader.LoadFile(config).ZeroMq;
        Assert.Equal(key.Fingerprint, ClusterKey.ReadConfigured(settings)!.Fingerprint);
        Assert.Equal(key.Fingerprint, ClusterKey.ForCapabilityEvents(settings)!.Fingerprint);
        Assert.Null(ClusterKey.ForCapabilityEvents(settings with { RemotePublishers = false }));
    }
}
