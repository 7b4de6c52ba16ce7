namespace Motey.Tests.Shared;

/// <summary>
/// Where this test run's repository and build are: the folder above the test's output that holds Motey.Host.sln, the
/// configuration the tests were built in, and the agent's build output, which the tests run as a user would.
/// </summary>
internal static class Build
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The repository root.</summary>
    public static string Repository { get; } = FindRepository();

    /// <summary>The agent's build output, with motey.dll: host/bin/&lt;Configuration&gt;/net10.0.</summary>
    public static string AgentDirectory => Path.Combine(Repository, "host", "bin", Configuration, "net10.0");

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Motey.Host.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"Motey.Host.sln not found above {AppContext.BaseDirectory}");
    }
}
