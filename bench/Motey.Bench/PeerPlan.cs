namespace Motey.Bench;

/// <summary>
/// The loopback addresses of the scale benchmarks' simulated peers (up to 2,000 live and 620 dead). A last octet must be
/// at most 254 and the agent orders peers by ordinal string comparison, so every address has a two-digit third octet
/// and a three-digit last one: ordinal order is then numeric order. Live peer k is <c>127.78.(10 + k / 155).(100 + k % 155)</c>
/// (127.78.10.100 … 127.78.22.254 for k &lt; 2,015); dead peer k (registered, nothing listens) is
/// <c>127.76.(10 + k / 155).(100 + k % 155)</c>: "127.76." sorts before "127.78.", so every dead peer comes before every
/// live one in the agent's order, as in the fan-out benchmark. Agents use 127.77.x.y (<see cref="BenchContext.NextAddress"/>),
/// brokers too; the fan-out benchmark's peers 127.78.0–2.x do not overlap (third octet below 10).
/// </summary>
internal static class PeerPlan
{
    public const int PerPrefix = 155;
    public const int MaxLive = 15 * PerPrefix;
    public const int MaxDead = 4 * PerPrefix;

    public static string Live(int k) =>
        k is >= 0 and < MaxLive ? $"127.78.{10 + k / PerPrefix}.{100 + k % PerPrefix}" : throw new ArgumentOutOfRangeException(nameof(k), $"live peer {k}: the plan has {MaxLive}");

    public static string Dead(int k) =>
        k is >= 0 and < MaxDead ? $"127.76.{10 + k / PerPrefix}.{100 + k % PerPrefix}" : throw new ArgumentOutOfRangeException(nameof(k), $"dead peer {k}: the plan has {MaxDead}");

    public static IReadOnlyList<string> LiveAddresses(int count) => Enumerable.Range(0, count).Select(Live).ToList();

    public static IReadOnlyList<string> DeadAddresses(int count) => Enumerable.Range(0, count).Select(Dead).ToList();
}
