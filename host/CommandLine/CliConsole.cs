namespace Motey.Host.CommandLine;

/// <summary>Where a command reads and writes: the process's console, or a test's writers.</summary>
/// <param name="Out">Results: tables, JSON, progress.</param>
/// <param name="Error">Errors and refusals, as sentences.</param>
/// <param name="In">Standard input (`motey service deploy -`).</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, Func<Stream> In)
{
    public static CliConsole System { get; } = new(Console.Out, Console.Error, Console.OpenStandardInput);
}
