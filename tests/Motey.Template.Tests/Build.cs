namespace Motey.Template.Tests;

/// <summary>Where this test run's repository and build are.</summary>
internal static class Build
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The repository root: the folder above the test's output that holds Motey.Host.sln.</summary>
    public static string Repository { get; } = FindRepository();

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Motey.Host.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"Motey.Host.sln not found above {AppContext.BaseDirectory}");
    }
}
