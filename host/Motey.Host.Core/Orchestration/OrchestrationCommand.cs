namespace Motey.Host.Core.Orchestration;

/// <summary>What the orchestration worker is asked to do with a service.</summary>
public enum CommandKind
{
    /// <summary>Place and start every image that is not deployed yet.</summary>
    Deploy,
    /// <summary>Stop and remove every instance of the service.</summary>
    Terminate,
}

/// <summary>A unit of work for the orchestration worker; <see cref="Show"/> makes it readable in logs.</summary>
public sealed record OrchestrationCommand(CommandKind Kind, string ServiceId)
{
    /// <summary>The command in words, for the log.</summary>
    public string Show() => $"{Kind} service {ServiceId}";
}
