using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Tests.Fakes;

/// <summary>Services in memory, with every stored version kept so a test can read the history of an image.</summary>
internal sealed class FakeServiceStore : IServiceStore
{
    private readonly Lock _gate = new();
    private readonly List<Service> _services = [];
    private readonly HashSet<string> _terminations = [];

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

    public Task MarkTerminationAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_services.Any(s => s.Id == id)) _terminations.Add(id);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlySet<string>> TerminationsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlySet<string>>(_terminations.Where(id => _services.Any(s => s.Id == id)).ToHashSet());
    }

    public Service Get(string id)
    {
        lock (_gate) return _services.Single(s => s.Id == id);
    }
}
