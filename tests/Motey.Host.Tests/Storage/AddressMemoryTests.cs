using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Storage;

/// <summary>
/// The addresses an agent named itself by, kept in its real SQLite file across starts: what it created under an
/// earlier address is still its own (the fence needs that after a reboot gave the node another address).
/// </summary>
public sealed class AddressMemoryTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Database Start()
    {
        var database = new Database(Path.Combine(_folder.Path, "data", "motey.db"));
        database.Initialize();
        return database;
    }

    [Fact]
    public void Each_start_under_another_address_remembers_the_earlier_ones_and_a_known_address_is_not_a_former_one()
    {
        Assert.Empty(Start().RememberAddress("10.0.0.7"));
        Assert.Empty(Start().RememberAddress("10.0.0.7"));  // the same address again: nothing former

        Assert.Equal(["10.0.0.7"], Start().RememberAddress("10.0.0.8").Order());
        Assert.Equal(["10.0.0.7", "10.0.0.8"], Start().RememberAddress("10.0.0.9").Order());
        Assert.Equal(["10.0.0.8", "10.0.0.9"], Start().RememberAddress("10.0.0.7").Order());
    }
}
