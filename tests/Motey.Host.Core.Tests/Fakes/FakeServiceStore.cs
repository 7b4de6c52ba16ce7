using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>Services in memory, with every stored version kept so a test can read the history of an image.</summary>
internal sealed class FakeServiceStore : IServiceStore
{
    private readonly Lock _gate = new();
    private readonly List<Service> _services = [];

    /// <summary>Every version stored, oldest first.</summary>
    public List<Service> History { get; } = [];

    public Task<IReadOnlyList<Service>> AllAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<Service>>(_services.ToList());
    }

    public Task<Service?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_services.FirstOrDefault(s => s.Id == id));
    }

    public Task AddAsync(Service service, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _services.Add(service);
            History.Add(service);
        }
        return Task.CompletedTask;
    }

    public Task<bool> UpdateAsync(Service service, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var index = _services.FindIndex(s => s.Id == service.Id);
            if (index < 0) return Task.FromResult(false);
            _services[index] = service;
            History.Add(service);
            return Task.FromResult(true);
        }
    }

    public Task<bool> RemoveAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_services.RemoveAll(s => s.Id == id) > 0);
    }

    public Service Get(string id)
    {
        lock (_gate) return _services.Single(s => s.Id == id);
    }
}
