namespace Motey.Host.Core.Membership;

/// <summary>A node of the cluster as this node knows it.</summary>
public sealed record NodeRecord(string Address, bool IsSelf, DateTimeOffset LastSeen);

/// <summary>Where the nodes this node knows are kept for GET /v1/nodes (SQLite in production); only <see cref="ClusterNodes"/> writes it.</summary>
public interface INodeStore
{
    /// <summary>Every known node, this node first, then by address.</summary>
    Task<IReadOnlyList<NodeRecord>> AllAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds the node, or refreshes when it was last seen; never a duplicate.</summary>
    Task<bool> UpsertAsync(string address, bool isSelf = false, CancellationToken cancellationToken = default);

    /// <summary>Forgets the node; false when it was not known.</summary>
    Task<bool> RemoveAsync(string address, CancellationToken cancellationToken = default);

    /// <summary>Forgets every node.</summary>
    Task ClearAsync(CancellationToken cancellationToken = default);
}
