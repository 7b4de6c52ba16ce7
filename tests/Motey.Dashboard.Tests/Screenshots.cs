namespace Motey.Dashboard.Tests;

/// <summary>
/// Where the screenshots of a test run go: always screenshots/ beside the tests' assembly; and, when
/// MOTEY_UPDATE_SCREENSHOTS=1, docs/screenshots/ of the repository too, the ones the README shows.
/// </summary>
internal static class Screenshots
{
    public static string OutputFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static string DocsFolder => Path.Combine(Build.Repository, "docs", "screenshots");

    public static bool UpdateDocs => Environment.GetEnvironmentVariable("MOTEY_UPDATE_SCREENSHOTS") == "1";

    public static void Save(string name, byte[] png)
    {
        Directory.CreateDirectory(OutputFolder);
        File.WriteAllBytes(Path.Combine(OutputFolder, name + ".png"), png);
        if (!UpdateDocs) return;
        Directory.CreateDirectory(DocsFolder);
        File.WriteAllBytes(Path.Combine(DocsFolder, name + ".png"), png);
    }
}
