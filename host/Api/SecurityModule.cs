using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Configuration;
using Motey.Host.Security;

namespace Motey.Host.Api;

/// <summary>/v1/security: how each channel of this node is secured (mode, TLS, logins, keys) and what is open; never a secret.</summary>
public sealed class SecurityModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/security", (MoteySettings settings, HttpContext http) => Results.Json(SecurityPosture.Of(settings) with
            {
                // The dashboard reads it to offer change controls only to a token that may change things.
                Role = settings.WebServer.TokensFile is null || http.User.IsInRole(RestRoles.Name(ApiRole.Admin))
                    ? RestRoles.Name(ApiRole.Admin) : RestRoles.Name(ApiRole.Read),
            }))
            .WithTags("node")
            .WithSummary("How each channel of this node is secured, and the role of the caller's token; never a secret")
            .Produces<SecurityPosture>()
            .WithResponseExample(StatusCodes.Status200OK, """
                {"mode": "open", "rest": {"tls": false, "client_certificates": false, "tokens": false, "insecure": false},
                 "mqtt": {"tls": false, "login": false, "embedded_broker_tls": false, "embedded_broker_logins": false},
                 "zeromq": {"curve": false, "capability_publishers": "local"}, "warnings": [], "role": "admin"}
                """);
}
