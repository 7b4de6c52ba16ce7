namespace Motey.Host.Core.Nodes;

/// <summary>Whose output to read: the instance of one image of a service, on the engine that runs it.</summary>
/// <param name="ServiceId">The service the image belongs to.</param>
/// <param name="ImageIndex">The image's index in the service (its <c>motey.image.index</c> label).</param>
/// <param name="InstanceId">The instance id the engine gave.</param>
/// <param name="Engine">The VAL type that runs it.</param>
public sealed record LogTarget(string ServiceId, int ImageIndex, string InstanceId, string Engine);

/// <summary>The image's instance is not there (any more) on its node, or is not that image's instance: there is nothing to read.</summary>
public sealed class NoInstanceException(string message) : Exception(message);
