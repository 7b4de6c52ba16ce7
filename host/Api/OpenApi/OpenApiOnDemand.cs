namespace Motey.Host.Api.OpenApi;

/// <summary>
/// GET /openapi/v1.json served by services of its own, made when the document is first asked for: the OpenAPI
/// generator and the ApiExplorer under it (Microsoft.AspNetCore.Mvc.Core, .Mvc.ApiExplorer, Microsoft.OpenApi and
/// Microsoft.AspNetCore.OpenApi, 2–3 MiB resident) are not loaded by a node nobody asks for its document.
/// </summary>
/// <remarks>
/// The document's services see the agent's: every service of the agent is registered there too, a singleton as the
/// agent's own instance, so the generator finds the same endpoints, JSON options and settings, and tells services from
/// parameters as the agent does. The document is then written by the endpoint <c>MapOpenApi</c> makes, exactly as when it
/// was mapped on the agent (same content, same servers taken from the request). The services are never disposed: they
/// would dispose the agent's singletons with them; what the document's own services hold goes with the process.
/// </remarks>
internal static class OpenApiOnDemand
{
    /// <summary>Maps <paramref name="pattern"/> on <paramref name="app"/>, built from <paramref name="appServices"/> (the builder's, complete once the app is built).</summary>
    public static void Map(WebApplication app, IServiceCollection appServices, string pattern)
    {
        // PublicationOnly: a build that throws is tried again at the next ask instead of being the answer until a restart.
        var document = new Lazy<(IServiceProvider Services, RequestDelegate Write)>(() => Build(app.Services, appServices, pattern),
            LazyThreadSafetyMode.PublicationOnly);
        app.MapGet(pattern, async (HttpContext http) =>
        {
            var (services, write) = document.Value;
            var requestServices = http.RequestServices;
            await using var scope = services.CreateAsyncScope();
            http.RequestServices = scope.ServiceProvider;
            try
            {
                await write(http);
            }
            finally
            {
                http.RequestServices = requestServices;
            }
        }).ExcludeFromDescription();
    }

    private static (IServiceProvider, RequestDelegate) Build(IServiceProvider app, IServiceCollection appServices, string pattern)
    {
        IServiceCollection services = new ServiceCollection();
        foreach (var type in appServices.GroupBy(d => (d.ServiceType, d.ServiceKey)))
        {
            var index = 0;
            foreach (var descriptor in type) services.Add(Forward(app, descriptor, index++));
        }
        MoteyOpenApi.Add(services);
        var provider = services.BuildServiceProvider();
        var routes = new DetachedRoutes(provider);
        routes.MapOpenApi(pattern);
        var endpoint = (RouteEndpoint)routes.DataSources.Single().Endpoints.Single();
        return (provider, endpoint.RequestDelegate!);
    }

    /// <summary>A singleton of the agent as the agent's own instance (the <paramref name="index"/>th of its type); anything else as registered.</summary>
    private static ServiceDescriptor Forward(IServiceProvider app, ServiceDescriptor descriptor, int index)
    {
        if (descriptor.Lifetime != ServiceLifetime.Singleton || descriptor.ServiceType.ContainsGenericParameters) return descriptor;
        var type = descriptor.ServiceType;
        return descriptor.IsKeyedService
            ? ServiceDescriptor.KeyedSingleton(type, descriptor.ServiceKey, (_, _) => app.GetKeyedServices(type, descriptor.ServiceKey).ElementAt(index)!)
            : ServiceDescriptor.Singleton(type, _ => app.GetServices(type).ElementAt(index)!);
    }

    /// <summary>Where MapOpenApi puts its endpoint: only its request delegate is used.</summary>
    private sealed class DetachedRoutes(IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;
        public ICollection<EndpointDataSource> DataSources { get; } = [];
        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(services);
    }
}
