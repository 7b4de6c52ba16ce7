using Motey.Host.Core.Orchestration;

namespace Motey.Host.Core.Tests.Orchestration;

/// <summary>One worker per service at a time, services in parallel, and a table that holds only the services being worked on.</summary>
public sealed class ServiceLocksTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly ServiceLocks _locks = new();

    [Fact]
    public async Task A_service_is_worked_on_by_one_holder_at_a_time()
    {
        var first = await _locks.AcquireAsync("a", CancellationToken.None);

        var second = _locks.AcquireAsync("a", CancellationToken.None);

        Assert.False(second.IsCompleted);
        first.Dispose();
        (await second.WaitAsync(Deadline)).Dispose();
        Assert.Equal(0, _locks.Count);
    }

    [Fact]
    public async Task Different_services_are_worked_on_in_parallel()
    {
        using var a = await _locks.AcquireAsync("a", CancellationToken.None);

        var b = _locks.AcquireAsync("b", CancellationToken.None);

        Assert.True(b.IsCompletedSuccessfully);
        using var held = await b;
        using var c = _locks.TryAcquire("c");
        Assert.NotNull(c);
        Assert.Equal(3, _locks.Count);
    }

    [Fact]
    public async Task Trying_a_held_service_gives_nothing_and_leaves_no_entry_once_the_holder_is_done()
    {
        var held = await _locks.AcquireAsync("a", CancellationToken.None);

        Assert.Null(_locks.TryAcquire("a"));
        Assert.Null(_locks.TryAcquire("a"));
        Assert.Equal(1, _locks.Count);

        held.Dispose();
        Assert.Equal(0, _locks.Count);
        using var again = _locks.TryAcquire("a");
        Assert.NotNull(again);
    }

    [Fact]
    public async Task The_table_is_empty_after_every_holder_and_waiter_is_done()
    {
        var holders = Enumerable.Range(0, 20).Select(i => $"service-{i % 4}").ToList();

        await Task.WhenAll(holders.Select(async id =>
        {
            await Task.Yield();
            using var held = await _locks.AcquireAsync(id, CancellationToken.None);
            await Task.Yield();
        })).WaitAsync(Deadline);

        Assert.Equal(0, _locks.Count);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_leaves_no_entry()
    {
        var held = await _locks.AcquireAsync("a", CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var waiting = _locks.AcquireAsync("a", giveUp.Token);

        giveUp.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Deadline));
        Assert.Equal(1, _locks.Count);
        held.Dispose();
        Assert.Equal(0, _locks.Count);
    }

    [Fact]
    public async Task Releasing_twice_releases_once()
    {
        var first = await _locks.AcquireAsync("a", CancellationToken.None);
        first.Dispose();
        using var second = await _locks.AcquireAsync("a", CancellationToken.None);

        first.Dispose();

        Assert.Null(_locks.TryAcquire("a"));
        Assert.Equal(1, _locks.Count);
    }
}
