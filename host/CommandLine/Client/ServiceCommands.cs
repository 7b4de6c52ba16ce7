using System.CommandLine;
using System.Net;
using System.Text.Json;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.CommandLine.Client;

/// <summary>`motey service deploy|ls|show|rm|logs`: a node's services over its REST API.</summary>
internal static class ServiceCommands
{
    public static Command Build(ClientOptions options, CliConsole console)
    {
        var service = options.With(new Command("service", "deploy, list, show, remove services and read their logs (over the node's REST API)"));
        service.Subcommands.Add(DeployCommand.Build(options, console));
        service.Subcommands.Add(List(options, console));
        service.Subcommands.Add(Show(options, console));
        service.Subcommands.Add(Remove(options, console));
        service.Subcommands.Add(LogsCommand.Build(options, console));
        return service;
    }

    /// <summary>The upper-case name of a state, as the REST's enum and the events name it.</summary>
    public static string Name(ServiceState state) => Motey.Host.Core.Events.EventTypes.StateName(state);

    public static string Name(Motey.Abstractions.ImageState state) => Motey.Host.Core.Events.EventTypes.StateName(state);

    private static Command List(ClientOptions options, CliConsole console)
    {
        var command = new Command("ls", "every service the node accepted: id, name, state, images running, nodes");
        options.SetAction(command, console, async (_, api, ct) =>
        {
            var body = await api.GetStringAsync("/v1/service", ct);
            if (api.Json)
            {
                api.WriteJson(body);
                return 0;
            }
            var table = new TableWriter("ID", "NAME", "STATE", "IMAGES", "NODES", "MESSAGE");
            foreach (var s in Parse<List<Service>>(body))
            {
                var nodes = s.Images.Select(i => i.Node).OfType<string>().Distinct().ToList();
                table.Add(s.Id, s.ServiceName, Name(s.State), $"{s.Images.Count(i => i.State == Motey.Abstractions.ImageState.Running)}/{s.Images.Count}",
                    nodes.Count == 0 ? "-" : string.Join(",", nodes), s.StateMessage);
            }
            table.Write(api.Console.Out);
            return 0;
        });
        return command;
    }

    private static Command Show(ClientOptions options, CliConsole console)
    {
        var target = ServiceArgument();
        var command = new Command("show", "one service and each of its images: state, node, instance, restarts, message") { target };
        options.SetAction(command, console, async (result, api, ct) =>
        {
            var (service, body) = await ResolveAsync(api, result.GetValue(target)!, ct);
            if (api.Json)
            {
                api.WriteJson(body);
                return 0;
            }
            Describe(service, api.Console.Out);
            return 0;
        });
        return command;
    }

    public static void Describe(Service service, TextWriter output)
    {
        output.WriteLine($"id:       {service.Id}");
        output.WriteLine($"name:     {service.ServiceName}");
        output.WriteLine($"state:    {Name(service.State)}");
        if (service.StateMessage.Length > 0) output.WriteLine($"message:  {service.StateMessage}");
        output.WriteLine();
        var table = new TableWriter("INDEX", "IMAGE", "ENGINE", "STATE", "NODE", "INSTANCE", "RESTARTS", "NEEDS", "MESSAGE");
        for (var i = 0; i < service.Images.Count; i++)
        {
            var image = service.Images[i];
            table.Add(i.ToString(), image.Name, image.Engine, Name(image.State), image.Node ?? "-", image.Id.Length > 0 ? image.Id : "-",
                image.Restarts.ToString(), image.Capabilities.Count == 0 ? "-" : string.Join(",", image.Capabilities), image.StateMessage);
        }
        table.Write(output);
    }

    private static Command Remove(ClientOptions options, CliConsole console)
    {
        var target = ServiceArgument();
        var noWait = new Option<bool>("--no-wait") { Description = "return once the node accepted the removal, without waiting for the service to end" };
        var timeout = TimeoutOption("how long to wait for the service to end (exit 4 when it has not)", 120);
        var command = new Command("rm", "end a service: its instances are stopped; waits until it is terminated or removed") { target, noWait, timeout };
        options.SetAction(command, console, async (result, api, ct) =>
        {
            var (service, _) = await ResolveAsync(api, result.GetValue(target)!, ct);
            using var response = await api.SendAsync(HttpMethod.Delete, ServicePath(service.Id), null, ct);
            var body = await api.ReadAsync(response, ct);
            if (api.Json && body.Length > 0) api.WriteJson(body);
            var who = $"service {service.Id} ({service.ServiceName})";
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                if (!api.Json) api.Console.Out.WriteLine($"{who} had ended and is removed");
                return 0;
            }
            if (!api.Json) api.Console.Out.WriteLine($"{who} is terminating");
            if (result.GetValue(noWait)) return 0;
            var seconds = result.GetValue(timeout);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
            Service? last = service;
            try
            {
                while (true)
                {
                    last = await TryGetAsync(api, service.Id, deadline.Token);
                    // Ended: every image TERMINATED or ERROR. A service with a failed image stays ERROR while and after
                    // the others stop (ERROR ranks first), so its state alone does not say the removal is done.
                    if (last is null || last.HasEnded()) break;
                    await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new CliException(CliException.TimedOut, $"{who} has not ended after {seconds} s: it is {Name(last!.State)}{Because(last)}");
            }
            if (!api.Json)
            {
                api.Console.Out.WriteLine(last is null ? $"{who} is removed"
                    : last.State == ServiceState.Error ? $"{who} has ended; images that had failed before: {Reason(last)}"
                    : $"{who} is terminated");
            }
            return 0;
        });
        return command;
    }

    public static Argument<string> ServiceArgument() => new("SERVICE") { Description = "the service's id, or its name" };

    public static Option<int> TimeoutOption(string description, int seconds)
    {
        return new Option<int>("--timeout")
        {
            Description = description,
            HelpName = "SECONDS",
            DefaultValueFactory = _ => seconds,
            CustomParser = r => Whole(r, "--timeout", "a number of seconds, 1 or more", 1) ?? 0,
        };
    }

    /// <summary>The option's value as a whole number of at least <paramref name="minimum"/>; else a parse error saying what it must be.</summary>
    public static int? Whole(System.CommandLine.Parsing.ArgumentResult result, string option, string expected, int minimum)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= minimum)
            return value;
        result.AddError($"{option} must be {expected}, not '{text}'");
        return null;
    }

    public static string ServicePath(string id) => $"/v1/service/{Uri.EscapeDataString(id)}";

    /// <summary>The service now; null when the node no longer has it. <paramref name="body"/> gets the node's JSON of it.</summary>
    public static async Task<Service?> TryGetAsync(NodeApi api, string id, CancellationToken cancellationToken, Action<string>? body = null)
    {
        using var response = await api.GetAsync(ServicePath(id), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        var json = await api.ReadAsync(response, cancellationToken);
        body?.Invoke(json);
        return Parse<Service>(json);
    }

    /// <summary>
    /// The service <paramref name="idOrName"/> names: the one with that id, else the one with that name (of several with
    /// one name, the one that has not ended). Unknown: exit 1, "no service with id or name 'x'".
    /// </summary>
    public static async Task<(Service Service, string Json)> ResolveAsync(NodeApi api, string idOrName, CancellationToken cancellationToken)
    {
        using (var byId = await api.GetAsync(ServicePath(idOrName), cancellationToken))
        {
            if (byId.StatusCode != HttpStatusCode.NotFound)
            {
                var body = await api.ReadAsync(byId, cancellationToken);
                return (Parse<Service>(body), body);
            }
        }
        using var document = JsonDocument.Parse(await api.GetStringAsync("/v1/service", cancellationToken));
        var named = document.RootElement.EnumerateArray()
            .Where(e => e.TryGetProperty("service_name", out var n) && n.GetString() == idOrName)
            .Select(e => (Service: e.Deserialize<Service>()!, Json: e.GetRawText()))
            .ToList();
        if (named.Count > 1) named = named.Where(n => n.Service.State != ServiceState.Terminated).ToList() is { Count: > 0 } live ? live : named;
        return named.Count switch
        {
            1 => named[0],
            0 => throw new CliException(CliException.Failed, $"no service with id or name '{idOrName}'"),
            _ => throw new CliException(CliException.Failed, $"the name '{idOrName}' names {named.Count} services: "
                + string.Join(", ", named.Select(n => $"{n.Service.Id} ({Name(n.Service.State)})")) + "; give its id"),
        };
    }

    public static T Parse<T>(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new CliException(CliException.Failed, $"the node's answer is not the {typeof(T).Name} expected: {e.Message}");
        }
    }

    /// <summary>Why a service is in its state: its message, else the first image message.</summary>
    public static string Reason(Service service) =>
        service.StateMessage.Length > 0 ? service.StateMessage
        : service.Images.Select((image, i) => (image, i)).FirstOrDefault(x => x.image.StateMessage.Length > 0) is { image: not null } m
            ? $"images[{m.i}] {m.image.Name}: {m.image.StateMessage}"
            : "no reason given";

    private static string Because(Service service) => Reason(service) is var r && r != "no reason given" ? $" ({r})" : "";
}
