using System.Reflection;
using Motey.Abstractions;

namespace Motey.Host.Plugins;

/// <summary>
/// Whether a plugin compiled against one version of Motey.Abstractions can run on this agent's (jellyfin's
/// <c>targetAbi</c>, read from the assembly itself). The rule is semver on the contract's assembly version:
/// the same major, and the plugin's minor not newer than the agent's (a minor only adds to the contract);
/// while the major is 0 the minors must be equal, since a 0.x minor may break. Patch, build and revision are ignored.
/// The plugin's version is its assembly reference to Motey.Abstractions, read before any of its types is loaded,
/// so an incompatible plugin is refused at load rather than failing at its first call. The agent's version is the
/// contract assembly it runs with, never a constant.
/// </summary>
internal static class ContractVersion
{
    private static readonly AssemblyName Contract = typeof(IValPlugin).Assembly.GetName();

    /// <summary>The version of Motey.Abstractions this agent provides.</summary>
    public static Version Host { get; } = Contract.Version!;

    public static bool IsCompatible(Version plugin, Version host) =>
        plugin.Major == host.Major && (host.Major == 0 ? plugin.Minor == host.Minor : plugin.Minor <= host.Minor);

    /// <summary>The versions a plugin may be built against, as a reader would say them: <c>0.1.x</c>, <c>1.0.x to 1.3.x</c>.</summary>
    public static string CompatibleRange(Version host) =>
        host.Major == 0 || host.Minor == 0 ? $"{host.Major}.{host.Minor}.x" : $"{host.Major}.0.x to {host.Major}.{host.Minor}.x";

    /// <summary>
    /// Throws <see cref="PluginLoadException"/> naming both versions when <paramref name="plugin"/> was built against a
    /// Motey.Abstractions this agent cannot serve. Reads only the assembly's references, so no plugin type is loaded.
    /// A plugin that references no Motey.Abstractions passes: it has no VAL type, which the caller reports.
    /// </summary>
    public static void EnsureCompatible(Assembly plugin) => EnsureCompatible(plugin.GetReferencedAssemblies(), Host);

    internal static void EnsureCompatible(IEnumerable<AssemblyName> references, Version host)
    {
        var contract = references.FirstOrDefault(r => string.Equals(r.Name, Contract.Name, StringComparison.OrdinalIgnoreCase));
        var built = contract?.Version ?? new Version(0, 0);
        if (contract is null || IsCompatible(built, host)) return;
        throw new PluginLoadException($"built against {Contract.Name} {Show(built)}; this agent provides {Show(host)} " +
            $"(compatible: {CompatibleRange(host)}) — rebuild the plugin against the agent's contract");
    }

    private static string Show(Version version) => $"{version.Major}.{version.Minor}.{Math.Max(version.Build, 0)}";
}
