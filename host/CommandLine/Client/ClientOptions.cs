using System.CommandLine;

namespace Motey.Host.CommandLine.Client;

/// <summary>
/// The options every client command takes (--url, --token, --json, and the root's --config), and the one way a client
/// command runs: connect, do its work, turn a <see cref="CliException"/> into its sentence on stderr and its exit code.
/// </summary>
internal sealed class ClientOptions(Option<string> config)
{
    /// <summary>The environment variable a token can come from when --token is not given.</summary>
    public const string TokenVariable = "MOTEY_TOKEN";

    public Option<string> Url { get; } = new("--url")
    {
        Description = "the node's REST API, e.g. https://10.0.0.5:5023 (default: the local node of the config file, as `motey status` reaches it)",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = $"the bearer token to send (default: ${TokenVariable}, else one from the config's [WEBSERVER] tokens file: "
            + "a read token for reads, an admin token for changes)",
        HelpName = "TOKEN",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "print the node's JSON answer unchanged (one document; for scripts) instead of tables and sentences",
        Recursive = true,
    };

    /// <summary><paramref name="command"/> with --url, --token and --json, for it and its subcommands.</summary>
    public Command With(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(Json);
        return command;
    }

    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="body"/> with a connected <see cref="NodeApi"/>.</summary>
    public void SetAction(Command command, CliConsole console, Func<ParseResult, NodeApi, CancellationToken, Task<int>> body) =>
        command.SetAction(async (result, cancellationToken) =>
        {
            if (Cli.Load(result.GetValue(config), console) is not { } settings) return 2;
            NodeApi api;
            try
            {
                api = NodeApi.Connect(settings, result.GetValue(Url), result.GetValue(Token) ?? Environment.GetEnvironmentVariable(TokenVariable),
                    result.GetValue(Json), console);
            }
            catch (CliException e)
            {
                console.Error.WriteLine($"motey: {e.Message}");
                return e.ExitCode;
            }
            using (api)
            {
                try
                {
                    return await body(result, api, cancellationToken);
                }
                catch (CliException e)
                {
                    if (e.Message.Length > 0) console.Error.WriteLine($"motey: {e.Message}");
                    return e.ExitCode;
                }
                catch (System.Text.Json.JsonException e)
                {
                    // --url names something that is not a Motey node (a proxy's login page, another server).
                    console.Error.WriteLine($"motey: the node at {api.Url} answered something that is not Motey's JSON: {e.Message}");
                    return CliException.Failed;
                }
            }
        });
}

/// <summary>A client command's end other than success: the sentence for stderr and the exit code (see <see cref="Cli.ExitCodes"/>).</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public const int Failed = 1;
    public const int BadUsage = 2;
    public const int NoAnswer = 3;
    public const int TimedOut = 4;

    public int ExitCode { get; } = exitCode;
}
