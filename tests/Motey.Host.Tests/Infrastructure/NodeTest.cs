namespace Motey.Host.Tests.Infrastructure;

/// <summary>A test class whose every test gets a fresh node (shipped plugins) in a fresh folder.</summary>
public abstract class NodeTest : IAsyncLifetime
{
    private readonly TestFolder _folder = new();
    private TestNode? _node;

    internal TestNode Node => _node ?? throw new InvalidOperationException("the node is not started");
    internal string FolderPath => _folder.Path;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_folder);

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _folder.Dispose();
    }
}
