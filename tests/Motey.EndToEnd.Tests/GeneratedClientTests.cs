using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// The OpenAPI document is good enough to generate a client from: kiota (pinned in .config/dotnet-tools.json) generates
/// a C# client from a running agent's /openapi/v1.json, the client builds, and it deploys, reads and is refused through
/// the typed methods and problem-details exceptions the document describes.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed partial class GeneratedClientTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-client-").FullName;
    private readonly string _client = Directory.CreateTempSubdirectory("motey-client-generated-").FullName;

    public void Dispose()
    {
        foreach (var folder in new[] { _folder, _client })
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_client_generated_by_kiota_from_the_document_deploys_reads_and_reports_problems()
    {
        await using var agent = AgentProcess.Start(_folder);
        await agent.WaitHealthyAsync();
        var document = Path.Combine(_client, "openapi.json");
        await File.WriteAllTextAsync(document, await agent.Client.GetStringAsync("/openapi/v1.json"));

        var dotnet = new Dotnet(home: null);
        var minutes = TimeSpan.FromMinutes(5);
        await dotnet.RunAsync(Build.Repository, minutes, "tool", "restore");
        var client = _client;
        var generated = await dotnet.RunAsync(Build.Repository, minutes,
            "tool", "run", "kiota", "generate", "--language", "CSharp", "--openapi", document, "--class-name", "MoteyClient",
            "--namespace-name", "Motey.Client", "--output", Path.Combine(client, "generated"), "--log-level", "Warning");
        Assert.Contains("Generation completed successfully", generated);

        await File.WriteAllTextAsync(Path.Combine(client, "client.csproj"), ClientProject());
        File.Copy(Path.Combine(Build.Repository, "tests", "Motey.EndToEnd.Tests", "GeneratedClient", "Program.cs.txt"), Path.Combine(client, "Program.cs"));
        await dotnet.RunAsync(client, minutes, "build", "-c", "Release", "-o", Path.Combine(client, "out"));
        var output = await dotnet.RunAsync(client, minutes, Path.Combine(client, "out", "client.dll"), agent.Client.BaseAddress!.ToString().TrimEnd('/'));

        Assert.Matches(CreatedLine(), output);
        Assert.Contains($"state 2 on {agent.Address}", output);
        Assert.Contains("simulated/plugin", output);
        Assert.Contains("problem 404: no service with id 'no-such-id'", output);
        Assert.Contains("problem 400: images: required key 'images' is missing (line 1, column 1)", output);
    }

    /// <summary>A console project with the generated code and the Kiota packages at the versions Directory.Packages.props pins.</summary>
    private static string ClientProject()
    {
        var pinned = XDocument.Load(Path.Combine(Build.Repository, "Directory.Packages.props")).Descendants("PackageVersion")
            .Where(p => ((string)p.Attribute("Include")!).StartsWith("Microsoft.Kiota.", StringComparison.Ordinal))
            .Select(p => $"""    <PackageReference Include="{p.Attribute("Include")!.Value}" Version="{p.Attribute("Version")!.Value}" />""");
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
            {string.Join("\n", pinned)}
              </ItemGroup>
            </Project>
            """;
    }

    [GeneratedRegex("^created generated [0-9a-f]{32}$", RegexOptions.Multiline)]
    private static partial Regex CreatedLine();
}
