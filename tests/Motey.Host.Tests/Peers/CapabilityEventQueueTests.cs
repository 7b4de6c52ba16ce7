using Motey.Host.Peers;

namespace Motey.Host.Tests.Peers;

/// <summary>The events waiting to be applied are bounded in bytes: a publisher that outruns the store waits for room.</summary>
public sealed class CapabilityEventQueueTests
{
    private static List<byte[]> Event(long bytes) => [new byte[bytes]];

    [Fact]
    public async Task A_write_beyond_the_byte_budget_waits_until_the_reader_makes_room()
    {
        var queue = new CapabilityEventQueue();
        await queue.WriteAsync(Event(CapabilityEventQueue.ByteBudget - 10), CancellationToken.None);

        var waiting = queue.WriteAsync(Event(100), CancellationToken.None).AsTask();
        await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(1, queue.Count);

        Assert.True(queue.TryRead(out _));
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task An_event_larger_than_the_budget_still_passes_an_empty_queue()
    {
        var queue = new CapabilityEventQueue();
        await queue.WriteAsync(Event(CapabilityEventQueue.ByteBudget + 1), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(queue.TryRead(out var frames));
        Assert.Equal(CapabilityEventQueue.ByteBudget + 1, frames[0].LongLength);
    }
}
