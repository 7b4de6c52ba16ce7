using System.Security.Claims;

namespace Motey.Host.Security;

/// <summary>Which role a request needs: reads (GET, HEAD) need <c>read</c>, everything else <c>admin</c>; admin may do all.</summary>
internal static class RestRoles
{
    public static ApiRole Needed(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? ApiRole.Read : ApiRole.Admin;

    public static bool Allows(ClaimsPrincipal user, string method) =>
        user.IsInRole(Name(ApiRole.Admin)) || (Needed(method) == ApiRole.Read && user.IsInRole(Name(ApiRole.Read)));

    public static string Name(ApiRole role) => role == ApiRole.Admin ? "admin" : "read";
}
