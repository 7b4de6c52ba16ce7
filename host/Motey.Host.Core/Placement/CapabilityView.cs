using System.Collections.Concurrent;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Placement;

/// <summary>
/// What the other nodes said they can do, as they published it themselves (Motey.NET nodes publish their capabilities
/// on membership, retained, whenever they change): placement reads it instead of asking every node per image, and
/// asks only the node it chose to confirm. A node without an entry (an original Motey node, which does not publish, or
/// one whose publication has not arrived yet) is asked the v1 way. Membership writes it; placement reads it and drops an
/// entry the node itself contradicts.
/// </summary>
public sealed class CapabilityView
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>One node's published capabilities and when this node received them.</summary>
    public sealed record Entry(IReadOnlyList<Capability> Capabilities, DateTimeOffset Received);

    /// <summary>Nodes with an entry.</summary>
    public int Count => _entries.Count;

    /// <summary>Puts what <paramref name="address"/> published, replacing what it published before.</summary>
    public void Set(string address, IReadOnlyList<Capability> capabilities, DateTimeOffset received) =>
        _entries[address] = new Entry(capabilities, received);

    /// <summary>Forgets <paramref name="address"/> (it left, cleared its publication, or contradicted it); false when it had no entry.</summary>
    public bool Forget(string address) => _entries.TryRemove(address, out _);

    /// <summary>What <paramref name="address"/> published, or null when it did not (or it was forgotten).</summary>
    public Entry? Find(string address) => _entries.GetValueOrDefault(address);

    /// <summary>Every node with an entry (a snapshot).</summary>
    public IReadOnlyCollection<string> Addresses => _entries.Keys.ToList();
}
