using Motey.Host;
using Motey.Host.CommandLine;
using Motey.Host.Configuration;

return await Cli.RunAsync(args);

/// <summary>Visible to tests that start the agent the way a user does.</summary>
public partial class Program;
