using Carter;

namespace Motey.Bench.Floor;

/// <summary>The bodies the floor app answers: captured from a seeded agent, as the bare app's.</summary>
internal sealed record FloorBodies(byte[] Capabilities, byte[] Services);

/// <summary>The bare app's routes, mapped through Carter as the agent maps its own.</summary>
internal sealed class FloorModule : ICarterModule
{
    private const string Json = "application/json; charset=utf-8";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/capabilities", (FloorBodies bodies) => Results.Bytes(bodies.Capabilities, Json));
        app.MapGet("/v1/service", (FloorBodies bodies) => Results.Bytes(bodies.Services, Json));
        app.MapGet("/ping", () => Results.Ok());
    }
}
