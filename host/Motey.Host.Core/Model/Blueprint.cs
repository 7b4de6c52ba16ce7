using Motey.Abstractions;

namespace Motey.Host.Core.Model;

/// <summary>A service as a blueprint describes it, before it is given an id and deployed.</summary>
/// <param name="ServiceName">The blueprint's <c>service_name</c>.</param>
/// <param name="NodeType">The blueprint's optional <c>node_type</c>.</param>
/// <param name="Images">The images in blueprint order: no id, no node, state <see cref="ImageState.Initial"/>.</param>
public sealed record Blueprint(string ServiceName, string? NodeType, IReadOnlyList<Image> Images);
