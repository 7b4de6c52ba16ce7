namespace Motey.Host.Parsing;

/// <summary>Names the service <c>DELETE /v1/service</c> removes: by <paramref name="Id"/> when given, else by <paramref name="ServiceName"/>.</summary>
/// <param name="Id">The service's id, when the body gave one.</param>
/// <param name="ServiceName">The service's name, when the body gave one.</param>
public sealed record ServiceSelector(string? Id, string? ServiceName);
