namespace Motey.EndToEnd.Tests.Cli;

/// <summary>One real agent (own process, loopback address and folder) that the CLI tests of a class share.</summary>
public sealed class CliAgent : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-cli-").FullName;
    private AgentProcess? _agent;

    internal AgentProcess Agent => _agent ?? throw new InvalidOperationException("not started");
    public string Folder => _folder;
    public string Config => Path.Combine(_folder, "config.ini");

    public async Task InitializeAsync()
    {
        _agent = AgentProcess.Start(_folder, settings: new Dictionary<string, string>
        {
            // Slow enough that a deploy's progress shows INSTANTIATING before RUNNING.
            ["SIMULATED:start_delay_ms"] = "500",
        });
        await _agent.WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null) await _agent.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>`motey ARGS --config` this agent's config.ini: the CLI finds the node as `motey status` does.</summary>
    internal Task<CliResult> MoteyAsync(params string[] args) => MoteyCli.RunAsync([.. args, "--config", Config]);

    internal Task<CliResult> MoteyWithInputAsync(string stdin, params string[] args) => MoteyCli.RunAsync([.. args, "--config", Config], stdin);

    /// <summary>Writes a blueprint into the agent's folder; its path.</summary>
    public string Blueprint(string name, string yaml)
    {
        var path = Path.Combine(_folder, name + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
