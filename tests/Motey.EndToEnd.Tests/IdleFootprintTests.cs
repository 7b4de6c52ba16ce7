using System.Net.Http.Json;
using System.Text.Json;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// What an idle node keeps out of its memory (issue 16, a lighter node): OpenSSL, which a SHA-256 of the plugin folders
/// loaded (3.9 MiB resident), and the framework assemblies McMaster's default walk of the shared assemblies' references
/// loaded only to learn their names (2.8 MiB). System.Security.Cryptography and System.Net.Security stay mapped: MQTTnet's
/// TCP options make its TLS options on every connect.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class IdleFootprintTests : IDisposable
{
    private static readonly string[] Unwanted =
    [
        "libssl.so.3", "libcrypto.so.3", "libSystem.Security.Cryptography.Native.OpenSsl.so",
        "System.Linq.Expressions.dll", "System.Reflection.Emit.dll", "System.IO.Compression.dll", "System.Formats.Asn1.dll", "System.Runtime.Numerics.dll",
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("motey-idle-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public async Task An_idle_node_maps_neither_openssl_nor_what_an_eager_plugin_loader_walks_into()
    {
        await using var agent = AgentProcess.Start(_folder);
        await agent.WaitHealthyAsync();
        await Wait.UntilAsync(async () => (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/plugins"))!
            .All(p => p.GetProperty("state").GetString() == "Active"), "every shipped plugin is active", TimeSpan.FromSeconds(30));
        // Idle for a while: the engine checks, the fence's lists and membership's connect have run by then.
        await Wait.HoldsAsync(() => Task.FromResult(Mapped(agent.Pid) is { Count: > 0 } found
            ? $"the idle agent maps {string.Join(", ", found)}" : null), TimeSpan.FromSeconds(4));
    }

    /// <summary>The files of <see cref="Unwanted"/> that process <paramref name="pid"/> maps.</summary>
    private static List<string> Mapped(int pid)
    {
        var files = File.ReadLines($"/proc/{pid}/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6)
            .Select(fields => Path.GetFileName(fields[5].Trim()))
            .ToHashSet(StringComparer.Ordinal);
        return Unwanted.Where(files.Contains).ToList();
    }
}
