using Motey.Host.Core.Model;

namespace Motey.Host.Core.Capabilities;

/// <summary>
/// Where the node's capabilities are kept (SQLite in production). A capability is the pair (name, type).
/// Only <see cref="NodeCapabilities"/> writes through it; readers may read it directly.
/// </summary>
public interface ICapabilityStore
{
    /// <summary>All capabilities ordered by type, then name; read-only and shared, never to be changed.</summary>
    Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds the capabilities that are not there yet; returns how many were new.</summary>
    Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default);

    /// <summary>Removes the capabilities that exist; returns how many were removed.</summary>
    Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the changes in order in one transaction, all or none: each adds (as <see cref="AddAsync"/>) or removes
    /// (as <see cref="RemoveAsync"/>) its list. Returns how many capabilities each change added or removed.
    /// </summary>
    Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken = default);

    /// <summary>Removes every capability of <paramref name="type"/>; returns how many.</summary>
    Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default);
}

/// <summary>One add or remove of a list of capabilities.</summary>
public sealed record CapabilityChange(bool IsAdd, IReadOnlyList<Capability> List);
