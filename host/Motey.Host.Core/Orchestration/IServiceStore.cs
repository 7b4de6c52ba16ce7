using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Core.Orchestration;

/// <summary>Where services and their images are kept (SQLite in production); every change is stored at once.</summary>
public interface IServiceStore
{
    /// <summary>All services in the order they were accepted; read-only and shared, never to be changed.</summary>
    Task<IReadOnlyList<Service>> AllAsync(CancellationToken cancellationToken = default);

    /// <summary>One service; null when there is none with this id.</summary>
    Task<Service?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Stores a new service.</summary>
    Task AddAsync(Service service, CancellationToken cancellationToken = default);

    /// <summary>Stores the new version of a service; false when it does not exist.</summary>
    Task<bool> UpdateAsync(Service service, CancellationToken cancellationToken = default);

    /// <summary>Forgets a service; false when it did not exist.</summary>
    Task<bool> RemoveAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that the service is to be terminated, apart from its document: a write of the document (a deploy's,
    /// under the service's lock) keeps the mark, and the next start finds it. It goes with the service.
    /// </summary>
    Task MarkTerminationAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The ids of the stored services whose termination was asked for (<see cref="MarkTerminationAsync"/>).</summary>
    Task<IReadOnlySet<string>> TerminationsAsync(CancellationToken cancellationToken = default);
}

/// <summary>The one way the orchestrator's parts change a service: one image at a time, the service's state following.</summary>
public static class ServiceUpdates
{
    /// <summary>
    /// The service with image <paramref name="index"/> replaced: its state derived from its images' states, its
    /// message from their messages (<c>images[i] (name): message</c>, joined by "; ").
    /// </summary>
    public static Service WithImage(this Service service, int index, Image image)
    {
        var images = service.Images.ToArray();
        // A message explains a state: one the caller carried over into another state no longer does.
        if (image.State != images[index].State && image.StateMessage == images[index].StateMessage && image.StateMessage.Length > 0)
            image = image with { StateMessage = "" };
        images[index] = image;
        return service with
        {
            Images = images,
            State = ServiceStates.FromImages(images.Select(i => i.State)),
            StateMessage = string.Join("; ", images
                .Select((i, n) => (i, n))
                .Where(x => x.i.StateMessage.Length > 0)
                .Select(x => $"images[{x.n}] ({x.i.Name}): {x.i.StateMessage}")),
        };
    }

    /// <summary>Whether nothing of the image runs or will run: it is TERMINATED or in ERROR.</summary>
    public static bool HasEnded(this Image image) => image.State is ImageState.Terminated or ImageState.Error;

    /// <summary>Whether nothing of the service runs or will run: every image has ended.</summary>
    public static bool HasEnded(this Service service) => service.Images.All(HasEnded);

    /// <summary>The service once its termination is under way: every image that has not ended is STOPPING.</summary>
    public static Service Stopping(this Service service)
    {
        for (var index = 0; index < service.Images.Count; index++)
        {
            var image = service.Images[index];
            if (!image.HasEnded() && image.State != ImageState.Stopping)
                service = service.WithImage(index, image with { State = ImageState.Stopping, StateMessage = "" });
        }
        return service;
    }

    /// <summary>Replaces one image (see <see cref="WithImage"/>) and stores the result at once.</summary>
    public static async Task<Service> SaveImageAsync(this IServiceStore store, Service service, int index, Image image, CancellationToken cancellationToken)
    {
        var updated = service.WithImage(index, image);
        await store.UpdateAsync(updated, cancellationToken);
        return updated;
    }
}
