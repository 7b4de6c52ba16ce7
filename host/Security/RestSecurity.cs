using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Motey.Host.Configuration;

namespace Motey.Host.Security;

/// <summary>
/// The REST API's listener and its guard: HTTPS when [WEBSERVER] tls_certificate is set, and with [WEBSERVER] tokens a
/// bearer token on every request except the probes (<see cref="OpenRoutes"/>). Without tokens every route is open, as
/// on a loopback node with nothing configured (beyond loopback SecurityRules refuses that unless insecure = true).
/// </summary>
internal static class RestSecurity
{
    /// <summary>
    /// The routes that answer without a token: probes for load balancers, systemd and `motey start`. They say whether
    /// the node is up (and, with a 400, which health check fails); nothing else.
    /// </summary>
    public static readonly IReadOnlyList<string> OpenRoutes = ["/v1/heartbeat", "/healthz"];

    /// <summary>Reads the tokens file and the certificates (a ConfigException names what is wrong) and registers the guard.</summary>
    public static void Add(WebApplicationBuilder builder, MoteySettings settings)
    {
        var web = settings.WebServer;
        var tls = RestTls.Load(web);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(web.Ip), web.Port, listen =>
        {
            if (tls is not null) listen.UseHttps(tls.HttpsOptions(kestrel.ApplicationServices.GetRequiredService<ILogger<RestTls>>()));
        }));
        if (web.TokensFile is null) return;
        builder.Services.AddSingleton(ApiTokens.Load(web.TokensFile));
        builder.Services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        // Every endpoint, and every path that matches none (so a probe learns nothing about routes), needs a token whose
        // role allows the method, unless it is marked AllowAnonymous (the open routes).
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder(BearerTokenHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireAssertion(c => c.Resource is HttpContext http && RestRoles.Allows(c.User, http.Request.Method))
            .Build());
    }

    /// <summary>
    /// With tokens, the endpoints of <paramref name="endpoints"/> that need one say so in their metadata (and so in the
    /// OpenAPI document): 401 without a valid token, 403 for a read token on a method that needs admin.
    /// </summary>
    public static void DescribeAnswers(IEndpointConventionBuilder endpoints, MoteySettings settings)
    {
        if (settings.WebServer.TokensFile is null) return;
        // Finally: after the endpoint's own conventions, so its AllowAnonymous is seen.
        endpoints.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAllowAnonymous>().Any()) return;
            endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ProblemDetails), [ProblemJson]));
            endpoint.Metadata.Add(new Api.OpenApi.DescribedResponseHeader(StatusCodes.Status401Unauthorized, "WWW-Authenticate",
                "Bearer realm=\"motey\", with error=\"invalid_token\" when a token was sent and is not one of [WEBSERVER] tokens"));
            var methods = endpoint.Metadata.OfType<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>().LastOrDefault()?.HttpMethods ?? [];
            if (methods.Count == 0 || methods.Any(m => RestRoles.Needed(m) == ApiRole.Admin))
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(ProblemDetails), [ProblemJson]));
        });
    }

    private const string ProblemJson = "application/problem+json";

    /// <summary>Authentication and authorization, after routing (so endpoints' AllowAnonymous counts) and before the endpoints.</summary>
    public static void Use(WebApplication app, MoteySettings settings)
    {
        if (settings.WebServer.TokensFile is null) return;
        app.UseAuthentication();
        app.UseAuthorization();
    }
}
