using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Motey.Host.Security;

/// <summary>
/// <c>Authorization: Bearer TOKEN</c> against [WEBSERVER] tokens. A request without a token or with an unknown one is
/// answered 401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750); one whose token's role does not allow it, 403 naming
/// the role it needs. Both as problem details. No message here holds the token.
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    private const string Prefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0) return Task.FromResult(AuthenticateResult.NoResult());
        if (header.Count > 1) return Task.FromResult(AuthenticateResult.Fail("the request has more than one Authorization header"));
        var value = header[0] ?? "";
        if (!value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header is not \"Bearer TOKEN\""));
        if (tokens.RoleOf(value.AsSpan(Prefix.Length).Trim()) is not { } role)
            return Task.FromResult(AuthenticateResult.Fail("the token is not one of this node's tokens ([WEBSERVER] tokens)"));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, RestRoles.Name(role))], SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer realm=\"motey\"" : "Bearer realm=\"motey\", error=\"invalid_token\"";
        await Results.Problem(
            title: "Unauthorized",
            detail: failure ?? $"{Request.Method} {Request.Path} needs a token: send \"Authorization: Bearer TOKEN\" with a token of "
                + $"role {(RestRoles.Needed(Request.Method) == ApiRole.Read ? "read or admin" : "admin")} from [WEBSERVER] tokens",
            statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var needed = RestRoles.Name(RestRoles.Needed(Request.Method));
        var held = Context.User.FindFirst(ClaimTypes.Role)?.Value ?? "none";
        await Results.Problem(
            title: "Forbidden",
            detail: $"{Request.Method} {Request.Path} needs a token of role {needed}; this token's role is {held}",
            statusCode: StatusCodes.Status403Forbidden,
            extensions: new Dictionary<string, object?> { ["role_needed"] = needed }).ExecuteAsync(Context);
    }
}
