using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Motey.Host.CommandLine.Client;
using Motey.Host.Configuration;

namespace Motey.Host.CommandLine;

/// <summary>
/// The <c>motey</c> command, parsed by System.CommandLine: the agent's own commands (run, start, stop, restart, status,
/// capability, keys, version) and the client commands that talk to a node's REST API (service, nodes, capabilities,
/// plugins). Exit codes: see <see cref="ExitCodes"/>.
/// </summary>
internal static class Cli
{
    /// <summary>The exit codes, as `motey --help` lists them.</summary>
    public const string ExitCodes = """
        Exit codes:
          0  done
          1  failed: the node refused (its reason on stderr), the service ended in ERROR, an unknown service;
             `motey status`: the agent runs but is unhealthy
          2  bad usage or configuration
          3  the node does not answer (connection refused, TLS, timeout); `motey status`: not running
          4  timed out waiting (service deploy, service rm)
        """;

    private const string Synopsis = "usage: motey <command> [options]; `motey --help` lists the commands, `motey <command> --help` explains one";

    public static Task<int> RunAsync(string[] args) => RunAsync(args, CliConsole.System);

    public static async Task<int> RunAsync(string[] args, CliConsole console)
    {
        var root = Build(console);
        // No response files: a token or a path that starts with @ is itself, not the name of a file of arguments.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors) console.Error.WriteLine($"motey: {error.Message}");
            console.Error.WriteLine(Synopsis);
            return 2;
        }
        // No termination handling here: `run` is an ASP.NET Core host that handles SIGTERM and Ctrl-C itself.
        return await parsed.InvokeAsync(new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        });
    }

    private static RootCommand Build(CliConsole console)
    {
        var config = new Option<string>("--config")
        {
            Description = "the config.ini to use (default: $MOTEY_CONFIG, else config.ini beside the executable, else the embedded defaults)",
            HelpName = "PATH",
            Recursive = true,
        };
        var root = new RootCommand("Motey.NET: the fog node agent (run, start, stop, ...) and a client of a node's REST API (service, nodes, ...).");
        root.Options.Add(config);
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is SynchronousCommandLineAction standard) help.Action = new HelpWithExitCodes(standard);
        // `motey version` prints what `motey --version` does: "motey X.Y.Z.W", as before System.CommandLine.
        foreach (var version in root.Options.OfType<VersionOption>().ToList()) root.Options.Remove(version);
        var versionFlag = new Option<bool>("--version") { Description = "print the version" };
        root.Options.Add(versionFlag);
        root.SetAction(result =>
        {
            if (result.GetValue(versionFlag)) return PrintVersion(console);
            console.Out.WriteLine(Synopsis);
            return 2;
        });

        root.Subcommands.Add(AgentCommand("run", "run the agent in the foreground until Ctrl-C or SIGTERM", config, console, out var daemon));
        root.Subcommands.Add(AgentCommand("start",
            "run the agent in the background; returns once it is healthy, or fails and leaves none (quoting why it exited, or its unhealthy heartbeat)",
            config, console, out _));
        root.Subcommands.Add(AgentCommand("stop", "stop the background agent named by the pid file ([GENERAL] pid)", config, console, out _));
        root.Subcommands.Add(AgentCommand("restart", "stop, then start", config, console, out _));
        root.Subcommands.Add(AgentCommand("status",
            "whether the agent runs: pid, REST address, security, plugins, capabilities, nodes (exit 3: not running)", config, console, out _));
        root.Subcommands.Add(CapabilityEventCommand(config, console));
        root.Subcommands.Add(KeysCommands(config, console));
        var versionCommand = new Command("version", "print the version");
        versionCommand.SetAction(_ => PrintVersion(console));
        root.Subcommands.Add(versionCommand);
        var helpCommand = new Command("help", "print this help") { Hidden = true };
        helpCommand.SetAction(_ => root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = console.Out, Error = console.Error }));
        root.Subcommands.Add(helpCommand);

        var client = new ClientOptions(config);
        root.Subcommands.Add(ServiceCommands.Build(client, console));
        root.Subcommands.Add(ClusterCommands.Nodes(client, console));
        root.Subcommands.Add(ClusterCommands.Capabilities(client, console));
        root.Subcommands.Add(ClusterCommands.Plugins(client, console));
        return root;
    }

    /// <summary>The standard help, and under the root's the exit codes.</summary>
    private sealed class HelpWithExitCodes(SynchronousCommandLineAction standard) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var code = standard.Invoke(parseResult);
            if (parseResult.CommandResult.Command is RootCommand)
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.Write(ExitCodes);
                output.WriteLine();
            }
            return code;
        }
    }

    private static int PrintVersion(CliConsole console)
    {
        console.Out.WriteLine($"motey {typeof(Cli).Assembly.GetName().Version}");
        return 0;
    }

    /// <summary>run, start, stop, restart, status: the agent of the config file.</summary>
    private static Command AgentCommand(string name, string description, Option<string> config, CliConsole console, out Option<bool> daemon)
    {
        var command = new Command(name, description);
        daemon = new Option<bool>("--daemon") { Description = "log to the log file only and say on stdout when ready (what `motey start` runs)", Hidden = true };
        if (name == "run") command.Options.Add(daemon);
        var daemonFlag = daemon;
        command.SetAction(async (result, _) =>
        {
            if (Load(result.GetValue(config), console) is not { } settings) return 2;
            switch (name)
            {
                case "run":
                    return await AgentRunner.RunAsync(settings, result.GetValue(daemonFlag));
                case "start":
                    return await StartCommand.RunAsync(settings, console.Out);
                case "stop":
                    return await DaemonCommands.StopAsync(settings, console.Out);
                case "restart":
                    var stopped = await DaemonCommands.StopAsync(settings, console.Out);
                    return stopped != 0 ? stopped : await StartCommand.RunAsync(settings, console.Out);
                default:
                    return await DaemonCommands.StatusAsync(settings, console.Out);
            }
        });
        return command;
    }

    /// <summary>`motey capability add|remove NAME [--type TYPE]`: a capability event to the node's capability engine.</summary>
    private static Command CapabilityEventCommand(Option<string> config, CliConsole console)
    {
        var command = new Command("capability",
            "send a capability event to the node's capability engine ([ZEROMQ] capability_engine_ipc_path), as the original's addcapability.py did");
        foreach (var (verb, description) in new[] { ("add", "announce a capability"), ("remove", "withdraw a capability") })
        {
            var name = new Argument<string>("NAME") { Description = "the capability" };
            var type = new Option<string>("--type") { Description = "its type", HelpName = "TYPE", DefaultValueFactory = _ => "hardware" };
            var sub = new Command(verb, description) { name, type };
            sub.SetAction(async (result, _) =>
            {
                if (Load(result.GetValue(config), console) is not { } settings) return 2;
                return await CapabilityCommand.RunAsync(settings, [verb, result.GetValue(name)!], result.GetValue(type), console.Out);
            });
            command.Subcommands.Add(sub);
        }
        return command;
    }

    /// <summary>`motey keys generate|show`: the cluster's CURVE key file. Before the config is loaded (see KeysCommand).</summary>
    private static Command KeysCommands(Option<string> config, CliConsole console)
    {
        var command = new Command("keys", "the cluster's CURVE key file for [ZEROMQ] cluster_key");
        var outPath = new Option<string>("--out") { Description = "where to write it (default: cluster.key beside the config file)", HelpName = "PATH" };
        var force = new Option<bool>("--force") { Description = "replace an existing key file (every node then needs the new one)" };
        var generate = new Command("generate", "make the cluster key file (owner-only); copy it to every node of the cluster") { outPath, force };
        generate.SetAction(result => KeysCommand.Run(["generate"], result.GetValue(config), result.GetValue(outPath), result.GetValue(force),
            console.Out, console.Error));
        var path = new Argument<string?>("PATH") { Description = "the key file (default: [ZEROMQ] cluster_key)", Arity = ArgumentArity.ZeroOrOne };
        var show = new Command("show", "the fingerprint of a cluster key file, to compare nodes") { path };
        show.SetAction(result => KeysCommand.Run(result.GetValue(path) is { } p ? ["show", p] : ["show"], result.GetValue(config), null, false,
            console.Out, console.Error));
        command.Subcommands.Add(generate);
        command.Subcommands.Add(show);
        return command;
    }

    /// <summary>The settings of <paramref name="configPath"/>; null (after saying why on stderr) when the config is wrong.</summary>
    internal static MoteySettings? Load(string? configPath, CliConsole console)
    {
        try
        {
            return ConfigLoader.Load(configPath);
        }
        catch (ConfigException e)
        {
            console.Error.WriteLine($"motey: {e.Message}");
            return null;
        }
    }

    /// <summary>Bad usage found after parsing: the message, the synopsis, exit code 2.</summary>
    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"motey: {message}");
        Console.Error.WriteLine(Synopsis);
        return 2;
    }
}
