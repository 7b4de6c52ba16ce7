using Motey.Host.CommandLine;
using Motey.Host.Peers;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.CommandLine;

/// <summary>`motey keys generate` and `motey keys show`, as the command line calls them, on real files.</summary>
public sealed class KeysCommandTests : IDisposable
{
    private readonly TestFolder _folder = new();
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    public void Dispose()
    {
        _output.Dispose();
        _error.Dispose();
        _folder.Dispose();
    }

    private string Config(string text)
    {
        var path = Path.Combine(_folder.Path, "config.ini");
        File.WriteAllText(path, text);
        return path;
    }

    private int Run(string? config, string? outPath = null, bool force = false, params string[] arguments) =>
        KeysCommand.Run(arguments, config, outPath, force, _output, _error);

    [Fact]
    public void Keys_generate_writes_an_owner_only_cluster_key_beside_the_config_and_says_what_to_do_with_it()
    {
        // The config already names the key it is about to get: that must not stop the key's making.
        var config = Config("[ZEROMQ]\ncluster_key = cluster.key\n");

        Assert.Equal(0, Run(config, arguments: "generate"));

        var path = Path.Combine(_folder.Path, "cluster.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var key = ClusterKey.Read(path);
        var said = _output.ToString();
        Assert.Contains($"wrote the cluster key to {path}", said);
        Assert.Contains($"fingerprint: {key.Fingerprint}", said);
        Assert.Contains("copy this file to every node", said);
        Assert.Contains("[ZEROMQ] cluster_key", said);
        Assert.DoesNotContain(key.Certificate.SecretKeyZ85!, said, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Certificate.PublicKeyZ85!, said, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_generate_refuses_to_replace_a_key_without_force_and_replaces_it_with_force()
    {
        var path = Path.Combine(_folder.Path, "keys", "cluster.key");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Assert.Equal(0, Run(null, path, arguments: "generate"));
        var first = ClusterKey.Read(path).Fingerprint;

        Assert.Equal(1, Run(null, path, arguments: "generate"));
        Assert.Contains($"{path} exists", _error.ToString());
        Assert.Contains("--force", _error.ToString());
        Assert.Equal(first, ClusterKey.Read(path).Fingerprint);

        Assert.Equal(0, Run(null, path, force: true, "generate"));
        Assert.NotEqual(first, ClusterKey.Read(path).Fingerprint);
    }

    [Fact]
    public void Keys_show_prints_the_fingerprint_of_the_configured_key_or_says_there_is_none()
    {
        var key = ClusterKey.Generate();
        key.Write(Path.Combine(_folder.Path, "cluster.key"), force: false);

        Assert.Equal(0, Run(Config("[ZEROMQ]\ncluster_key = cluster.key\n"), arguments: "show"));
        Assert.Contains($"fingerprint {key.Fingerprint}", _output.ToString());
        Assert.DoesNotContain(key.Certificate.PublicKeyZ85!, _output.ToString(), StringComparison.Ordinal);

        Assert.Equal(1, Run(Config("[ZEROMQ]\n"), arguments: "show"));
        Assert.Contains("sets no [ZEROMQ] cluster_key", _error.ToString());
    }

    [Fact]
    public void Keys_show_of_a_damaged_file_names_its_line()
    {
        var path = Path.Combine(_folder.Path, "other.key");
        File.WriteAllText(path, "public = short\n");

        Assert.Equal(1, Run(null, arguments: ["show", path]));
        Assert.Contains($"{path}:1: public: not a CURVE key", _error.ToString());
    }
}
