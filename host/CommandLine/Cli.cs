using Motey.Host.Configuration;
using Motey.Host.CommandLine;

namespace Motey.Host.CommandLine;

/// <summary>The <c>motey</c> command. Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 (status) not running.</summary>
internal static class Cli
{
    private const string Usage = """
        usage: motey <command> [--config PATH]

        commands:
          run                  run the agent in the foreground until Ctrl-C or SIGTERM
          start                run the agent in the background; returns once it is healthy, or fails and
                               leaves none (quoting why it exited, or its unhealthy heartbeat)
          stop                 stop the background agent named by the pid file ([GENERAL] pid)
          restart              stop, then start
          status               whether the agent runs: pid, REST address, security, plugins, capabilities, nodes
          capability add NAME [--type TYPE]
          capability remove NAME [--type TYPE]
                               send a capability event to the node's capability engine (type: hardware)
          keys generate [--out PATH] [--force]
                               make the cluster's CURVE key file for [ZEROMQ] cluster_key (owner-only; default
                               cluster.key beside the config file); copy it to every node of the cluster
          keys show [PATH]     the fingerprint of a cluster key file (default: [ZEROMQ] cluster_key), to compare nodes
          version              print the version

        --config PATH   the config.ini to use (default: $MOTEY_CONFIG, else config.ini beside
                        the executable, else the embedded defaults)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var command = args[0];
        var positional = new List<string>();
        string? configPath = null, type = null, outPath = null;
        bool daemon = false, force = false;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length: configPath = args[++i]; break;
                case "--type" when i + 1 < args.Length && command == "capability": type = args[++i]; break;
                case "--daemon" when command == "run": daemon = true; break;
                case "--out" when i + 1 < args.Length && command == "keys": outPath = args[++i]; break;
                case "--force" when command == "keys": force = true; break;
                case var a when !a.StartsWith("--", StringComparison.Ordinal) && command is "capability" or "keys": positional.Add(a); break;
                default: return Fail($"unknown argument '{args[i]}'");
            }
        }
        if (command is "version" or "--version")
        {
            Console.WriteLine($"motey {typeof(Cli).Assembly.GetName().Version}");
            return 0;
        }
        if (command is not ("run" or "start" or "stop" or "restart" or "status" or "capability" or "keys"))
            return Fail($"unknown command '{command}'");
        // Before the config is loaded: a config that names a key file yet to be made must not stop its making.
        if (command == "keys") return KeysCommand.Run(positional, configPath, outPath, force, Console.Out, Console.Error);

        MoteySettings settings;
        try
        {
            settings = ConfigLoader.Load(configPath);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"motey: {e.Message}");
            return 2;
        }
        switch (command)
        {
            case "run":
                return await AgentRunner.RunAsync(settings, daemon);
            case "start":
                return await StartCommand.RunAsync(settings, Console.Out);
            case "stop":
                return await DaemonCommands.StopAsync(settings, Console.Out);
            case "restart":
                var stopped = await DaemonCommands.StopAsync(settings, Console.Out);
                return stopped != 0 ? stopped : await StartCommand.RunAsync(settings, Console.Out);
            case "status":
                return await DaemonCommands.StatusAsync(settings, Console.Out);
            default:
                return await CapabilityCommand.RunAsync(settings, positional, type, Console.Out);
        }
    }

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"motey: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
