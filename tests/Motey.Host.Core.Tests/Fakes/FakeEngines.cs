using Motey.Abstractions;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>The active VALs of a node, by engine, as the plugin catalog would hold them.</summary>
internal sealed class FakeEngines(params IValPlugin[] active) : IEngines
{
    public IValPlugin? Find(string engine) => active.FirstOrDefault(v => v.PluginType == engine);

    public IReadOnlyList<IValPlugin> Active => active;
}
