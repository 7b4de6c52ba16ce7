namespace Motey.Host.Configuration;

/// <summary>A config.ini value the agent cannot start with; the message names file, section and key.</summary>
internal sealed class ConfigException(string message) : Exception(message);
