using Motey.Host.Core.Model;

namespace Motey.Host.Core.Capabilities;

/// <summary>
/// Where the node's capabilities are kept (SQLite in production). A capability is keyed by its name, as in the original
/// Motey: one entry per name, whatever its type. Only <see cref="NodeCapabilities"/> writes through it; readers may read
/// it directly.
/// </summary>
public interface ICapabilityStore
{
    /// <summary>All capabilities ordered by type, then name; read-only and shared, never to be changed.</summary>
    Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds each capability whose name is not there yet (nor earlier in the list), keeping the entry a known name has
    /// whatever the type asked for; returns how many were new.
    /// </summary>
    Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes each entry whose name and type both match; returns how many were removed. An entry that took over another
    /// (<see cref="ReplaceAsync"/>) gives it back; removing the entry taken over removes it for good.
    /// </summary>
    Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the changes in order in one transaction, all or none: each adds (as <see cref="AddAsync"/>) or removes
    /// (as <see cref="RemoveAsync"/>) its list. Returns how many capabilities each change added or removed.
    /// </summary>
    Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts <paramref name="capability"/> in, taking over the entry of its name when that has another type (kept, and back
    /// when this one is removed). Returns whether anything changed and the entry taken over (null when the name was free or
    /// already had this type).
    /// </summary>
    Task<CapabilityReplacement> ReplaceAsync(Capability capability, CancellationToken cancellationToken = default);

    /// <summary>Removes every capability of <paramref name="type"/> (entries they took over come back); returns how many.</summary>
    Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default);
}

/// <summary>One add or remove of a list of capabilities.</summary>
public sealed record CapabilityChange(bool IsAdd, IReadOnlyList<Capability> List);

/// <summary>What <see cref="ICapabilityStore.ReplaceAsync"/> did.</summary>
/// <param name="Changed">True when the capability was added or took over an entry.</param>
/// <param name="Replaced">The entry of the same name and another type it took over; null when there was none.</param>
public sealed record CapabilityReplacement(bool Changed, Capability? Replaced);
