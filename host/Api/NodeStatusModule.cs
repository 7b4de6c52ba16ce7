using System.Net;
using System.Net.Sockets;
using Carter;
using Motey.Host.Api.OpenApi;
using Motey.Host.Core.Membership;
using Motey.Host.Health;
using Motey.Host.Parsing;
using Motey.Host.Peers;
using Motey.Host.Storage;

namespace Motey.Host.Api;

/// <summary>
/// /v1/nodestatus: cpu, memory and disk use, answered from the background sample; /v1/nodes/{ip}/status: the same of any
/// node this node knows, another node's read over its capabilities replier (<see cref="NodeStatusMessage"/>).
/// </summary>
public sealed class NodeStatusModule : ICarterModule
{
    private const string StatusExample = """
        {"cpu": 3.5, "memory": {"total": 8221675520, "available": 5120000000, "percent": 37.7, "used": 3101675520, "free": 1024000000},
         "disk": {"total": 250790436864, "used": 120000000000, "free": 130790436864, "percent": 47.8}}
        """;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/nodestatus", (NodeStatusSampler sampler) => Results.Json(sampler.Current()))
            .WithTags("node")
            .WithSummary("CPU, memory and disk use")
            .Produces<NodeStatus>()
            .WithResponseExample(StatusCodes.Status200OK, StatusExample);
        app.MapGet("/v1/nodes/{ip}/status", ReadAsync)
            .WithTags("nodes")
            .WithSummary("CPU, memory and disk use of a node this node knows, itself included")
            .WithDescription("""
                The same answer as /v1/nodestatus, of the node at {ip} (one of GET /v1/nodes): this node answers from its own
                sample, another node is asked over ZeroMQ within [ZEROMQ] request_timeout.
                """)
            .Produces<NodeStatus>()
            .WithResponseExample(StatusCodes.Status200OK, StatusExample)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithResponseExample(StatusCodes.Status400BadRequest, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Invalid node address", "status": 400,
                 "detail": "ip: 'gateway' is not an IP address", "errors": [{"where": "ip", "message": "'gateway' is not an IP address"}], "error_count": 1}
                """)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithResponseExample(StatusCodes.Status404NotFound, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.5", "title": "Not found", "status": 404,
                 "detail": "no node 10.0.0.9 is known to this node (see GET /v1/nodes)"}
                """)
            .ProducesProblem(StatusCodes.Status501NotImplemented)
            .WithResponseExample(StatusCodes.Status501NotImplemented, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.2", "title": "Not provided", "status": 501,
                 "detail": "node 10.0.0.7 does not serve node status: it answered like a node of the original Motey (or a Motey.NET from before this message)"}
                """)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .WithResponseExample(StatusCodes.Status502BadGateway, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.3", "title": "Bad gateway", "status": 502,
                 "detail": "node 10.0.0.7 answered the node status request with an error: could not read its status: /proc/meminfo: permission denied"}
                """)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .WithResponseExample(StatusCodes.Status504GatewayTimeout, """
                {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.5", "title": "Gateway timeout", "status": 504,
                 "detail": "node 10.0.0.7 did not answer on tcp://10.0.0.7:5091 within 5 s"}
                """);
    }

    private static async Task<IResult> ReadAsync(
        string ip, NodeIdentity identity, NodeRepository nodes, NodeStatusSampler sampler, ZeroMqPeers peers, CancellationToken ct)
    {
        if (NodeAddress(ip, out var error) is not { } address) return Problems.Invalid("Invalid node address", [error!]);
        if (address == identity.Address) return Results.Json(sampler.Current());
        if (!(await nodes.AllAsync(ct)).Any(n => n.Address == address))
            return Problems.NotFound($"no node {address} is known to this node (see GET /v1/nodes)");
        try
        {
            return Results.Json(await peers.Remote(address).GetNodeStatusAsync(ct));
        }
        catch (NotSupportedException e)
        {
            return Problems.NotProvided(e.Message);
        }
        catch (PeerTimeoutException e)
        {
            return Problems.GatewayTimeout(e.Message);
        }
        catch (PeerException e)
        {
            return Problems.BadGateway(e.Message);
        }
    }

    /// <summary>
    /// The address in the form the node list keeps (IPv6 canonical); null with what is wrong when <paramref name="text"/>
    /// is no IP address, or an IPv4 address in another spelling than dotted decimal (<c>IPAddress</c> reads "1" as 0.0.0.1).
    /// </summary>
    internal static string? NodeAddress(string text, out InputError? error)
    {
        error = null;
        var shown = text.Length <= 64 ? text : text[..64] + "...";
        if (!IPAddress.TryParse(text, out var ip))
            error = new InputError("ip", $"'{shown}' is not an IP address");
        else if (ip.AddressFamily == AddressFamily.InterNetwork && ip.ToString() != text)
            error = new InputError("ip", $"'{shown}' is not an IPv4 address in dotted decimal form such as 10.0.0.7");
        return error is null ? ip!.ToString() : null;
    }
}
