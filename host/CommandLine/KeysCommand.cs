using Motey.Host.Configuration;
using Motey.Host.Peers;

namespace Motey.Host.CommandLine;

/// <summary>
/// `motey keys generate [--out PATH] [--force]` makes the cluster's CURVE key file ([ZEROMQ] cluster_key), owner-only;
/// `motey keys show [PATH]` prints a key file's fingerprint, to compare the files of two nodes. Neither prints a key.
/// </summary>
internal static class KeysCommand
{
    public static int Run(IReadOnlyList<string> arguments, string? configPath, string? outPath, bool force, TextWriter output, TextWriter error)
    {
        switch (arguments)
        {
            case ["generate"]:
                return Generate(outPath ?? DefaultPath(configPath), force, output, error);
            case ["show"] when outPath is null && !force:
                return Show(null, configPath, output, error);
            case ["show", var path] when outPath is null && !force:
                return Show(path, configPath, output, error);
            default:
                return Cli.Fail("expected: motey keys generate [--out PATH] [--force], or motey keys show [PATH]");
        }
    }

    /// <summary>cluster.key beside the config file `motey run` would read (beside the executable when it reads the embedded defaults).</summary>
    private static string DefaultPath(string? configPath) =>
        Path.Combine(ConfigLoader.Locate(configPath) is { } config ? Path.GetDirectoryName(config)! : AppContext.BaseDirectory, ClusterKey.DefaultFileName);

    private static int Generate(string path, bool force, TextWriter output, TextWriter error)
    {
        path = Path.GetFullPath(path);
        if (!force && File.Exists(path))
        {
            error.WriteLine($"motey: {path} exists; a new key locks every node that has the old one out of the cluster. "
                + "Use --force to replace it (then copy it to every node again)");
            return 1;
        }
        var key = ClusterKey.Generate();
        try
        {
            key.Write(path, force);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"motey: cannot write the cluster key to {path}: {e.Message}");
            return 1;
        }
        output.WriteLine($"wrote the cluster key to {path} (owner-only, mode 600)");
        output.WriteLine($"fingerprint: {key.Fingerprint}");
        output.WriteLine($"copy this file to every node (keep it owner-only; whoever holds it is a member), and set [ZEROMQ] cluster_key = {path}");
        return 0;
    }

    private static int Show(string? path, string? configPath, TextWriter output, TextWriter error)
    {
        if (path is null)
        {
            MoteySettings settings;
            try
            {
                settings = ConfigLoader.Load(configPath);
            }
            catch (ConfigException e)
            {
                error.WriteLine($"motey: {e.Message}");
                return 2;
            }
            if (settings.ZeroMq.ClusterKeyFile is not { } configured)
            {
                error.WriteLine($"motey: {settings.SourceFile ?? "the embedded defaults"} sets no [ZEROMQ] cluster_key: ZeroMQ runs plain");
                return 1;
            }
            path = configured;
        }
        try
        {
            output.WriteLine($"{Path.GetFullPath(path)}: fingerprint {ClusterKey.Read(path).Fingerprint}");
            return 0;
        }
        catch (ClusterKeyException e)
        {
            error.WriteLine($"motey: {e.Message}");
            return 1;
        }
    }
}
