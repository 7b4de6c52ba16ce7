using System.Reflection;
using Motey.Abstractions;
using Motey.Host.Plugins;

namespace Motey.Host.Tests.Plugins;

/// <summary>The rule deciding which Motey.Abstractions a plugin may be built against.</summary>
public sealed class ContractVersionTests
{
    [Theory]
    [InlineData("0.1.0", "0.1.0")]
    [InlineData("0.1.0.0", "0.1.7.3")]  // patch, build and revision are ignored
    [InlineData("0.1.9", "0.1.0")]
    [InlineData("1.0.0", "1.3.0")]      // from 1.0 on, an older minor runs on a newer agent
    [InlineData("1.3.0", "1.3.0")]
    public void A_plugin_built_against_a_compatible_contract_is_accepted(string plugin, string host) =>
        Assert.True(ContractVersion.IsCompatible(Version.Parse(plugin), Version.Parse(host)));

    [Theory]
    [InlineData("0.1.0", "0.2.0")]      // while the major is 0, a minor may break: it must be equal
    [InlineData("0.2.0", "0.1.0")]
    [InlineData("0.0.1", "0.1.0")]
    [InlineData("1.4.0", "1.3.0")]      // a newer minor may use members this agent lacks
    [InlineData("1.0.0", "2.0.0")]
    [InlineData("2.0.0", "1.9.0")]
    [InlineData("0.9.0", "1.0.0")]
    [InlineData("9.0.0", "0.1.0")]
    public void A_plugin_built_against_an_incompatible_contract_is_refused(string plugin, string host) =>
        Assert.False(ContractVersion.IsCompatible(Version.Parse(plugin), Version.Parse(host)));

    [Theory]
    [InlineData("0.1.0", "0.1.x")]
    [InlineData("0.2.3", "0.2.x")]
    [InlineData("1.0.0", "1.0.x")]
    [InlineData("1.3.0", "1.0.x to 1.3.x")]
    public void The_compatible_range_is_said_as_a_reader_would(string host, string range) =>
        Assert.Equal(range, ContractVersion.CompatibleRange(Version.Parse(host)));

    [Fact]
    public void The_refusal_names_both_versions_and_what_to_do()
    {
        var references = new[] { new AssemblyName("System.Runtime, Version=10.0.0.0"), new AssemblyName("Motey.Abstractions, Version=9.0.0.0") };
        var e = Assert.Throws<PluginLoadException>(() => ContractVersion.EnsureCompatible(references, new Version(0, 1, 0, 0)));
        Assert.Equal("built against Motey.Abstractions 9.0.0; this agent provides 0.1.0 (compatible: 0.1.x) — rebuild the plugin against the agent's contract",
            e.Message);
    }

    [Fact]
    public void An_assembly_that_references_no_contract_is_left_to_the_search_for_a_VAL_type()
    {
        ContractVersion.EnsureCompatible([new AssemblyName("System.Runtime, Version=10.0.0.0")], new Version(0, 1, 0, 0));
    }

    [Fact]
    public void The_agent_s_contract_version_is_the_one_it_runs_with()
    {
        Assert.Equal(typeof(IValPlugin).Assembly.GetName().Version, ContractVersion.Host);
        ContractVersion.EnsureCompatible(typeof(ContractVersionTests).Assembly.GetReferencedAssemblies(), ContractVersion.Host);
    }
}
