using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Motey.Host.Membership;

internal enum MembershipState { Connecting, Connected, Reconnecting, Refused }

/// <summary>
/// Where membership stands, as a health check: connected is healthy; a broker that cannot be reached is
/// degraded (the node still runs its own services); a refused login is unhealthy, since only an operator can fix it.
/// </summary>
internal sealed class MembershipStatus : IHealthCheck
{
    private readonly Lock _gate = new();
    private (MembershipState State, string? Problem) _current = (MembershipState.Connecting, "not connected to the MQTT broker yet");

    public MembershipState State { get { lock (_gate) return _current.State; } }

    /// <summary>Records the state; true when state or problem changed (so callers log changes only once).</summary>
    public bool Set(MembershipState state, string? problem)
    {
        lock (_gate)
        {
            var changed = _current != (state, problem);
            _current = (state, problem);
            return changed;
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        MembershipState state;
        string? problem;
        lock (_gate) (state, problem) = _current;
        return Task.FromResult(state switch
        {
            MembershipState.Connected => HealthCheckResult.Healthy(),
            MembershipState.Refused => HealthCheckResult.Unhealthy(problem),
            _ => HealthCheckResult.Degraded(problem),
        });
    }
}
