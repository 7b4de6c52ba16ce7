using Motey.Abstractions;
using YamlDotNet.Serialization;

namespace Motey.TestVal;

/// <summary>
/// Uses its own YamlDotNet version. Its instance ids say which YamlDotNet assembly it sees and from
/// which load context, so a test can tell that the plugin got its own copy, not the host's.
/// </summary>
public sealed class IsolationVal : TestValBase
{
    public override string PluginType => "isolation";

    protected override string NewId(InstanceSpec spec)
    {
        var yaml = typeof(Deserializer).Assembly;
        var context = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(yaml)?.Name ?? "?";
        // Prove the library works inside the plugin too.
        var value = new DeserializerBuilder().Build().Deserialize<Dictionary<string, string>>("k: v")["k"];
        return $"{yaml.GetName().Version}|{context}|{value}|{Guid.NewGuid():N}";
    }
}
