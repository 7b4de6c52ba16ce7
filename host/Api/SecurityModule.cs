using Carter;
using Motey.Host.Configuration;
using Motey.Host.Security;

namespace Motey.Host.Api;

/// <summary>/v1/security: how each channel of this node is secured (mode, TLS, logins, keys) and what is open; never a secret.</summary>
public sealed class SecurityModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/security", (MoteySettings settings) => Results.Json(SecurityPosture.Of(settings))).WithTags("node");
}
