using Motey.Host.Configuration;

namespace Motey.Host;

/// <summary>The <c>motey</c> command. Exit codes: 0 done, 1 the agent failed, 2 bad usage or configuration.</summary>
internal static class Cli
{
    private const string Usage = """
        usage: motey <command> [--config PATH]

        commands:
          run        run the agent in the foreground until Ctrl-C or SIGTERM
          version    print the version

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
        string? configPath = null;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length) configPath = args[++i];
            else return Fail($"unknown argument '{args[i]}'");
        }
        switch (args[0])
        {
            case "version" or "--version":
                Console.WriteLine($"motey {typeof(Cli).Assembly.GetName().Version}");
                return 0;
            case "run":
                return await RunAgentAsync(configPath);
            default:
                return Fail($"unknown command '{args[0]}'");
        }
    }

    private static async Task<int> RunAgentAsync(string? configPath)
    {
        MoteySettings settings;
        WebApplication app;
        try
        {
            settings = ConfigLoader.Load(configPath);
            app = MoteyApp.Build(settings);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"motey: {e.Message}");
            return 2;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"motey: cannot start: {e.Message}");
            return 1;
        }
        await using (app)
        {
            app.Logger.LogInformation("Motey {Version} using {Config}", typeof(Cli).Assembly.GetName().Version,
                settings.SourceFile ?? "the embedded defaults");
            try
            {
                await app.RunAsync();
                return 0;
            }
            catch (IOException e)
            {
                // Kestrel could not bind (port in use, address not on this host).
                app.Logger.LogCritical("Cannot listen on {Ip}:{Port}: {Error}", settings.WebServer.Ip, settings.WebServer.Port, e.Message);
                return 1;
            }
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"motey: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
