using System.Net;

namespace Motey.EndToEnd.Tests;

/// <summary>`motey start` and `motey status` against agents whose REST API has tokens and HTTPS, as an operator runs them.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class SecuredRestTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-secured-").FullName;
    private readonly string _address = AgentProcess.NextAddress();
    private string _config = "";
    private int _port;

    private string PidPath => Path.Combine(_folder, "run", "motey.pid");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_config.Length > 0) await MoteyAsync("stop");
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private async Task<(int Code, string Output)> MoteyAsync(params string[] command)
    {
        await using var cli = AgentProcess.StartRaw(_folder, _address, _port, [.. command, "--config", _config]);
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(90));
        return (code, cli.Output);
    }

    [Fact]
    public async Task Start_and_status_reach_an_https_node_with_tokens_and_a_client_without_a_token_gets_401()
    {
        var secured = new SecuredRest(_folder, _address);
        (_config, _port) = AgentProcess.WriteConfig(_folder, _address, secured.Settings);

        var (code, output) = await MoteyAsync("start");
        Assert.True(code == 0, output);
        Assert.Contains($"started (pid {int.Parse(File.ReadAllText(PidPath).Trim())}), REST on https://{_address}:{_port}", output);

        (code, output) = await MoteyAsync("status");
        Assert.True(code == 0, output);
        Assert.Contains($"  REST:         https://{_address}:{_port}", output);
        Assert.Contains("  heartbeat:    204 healthy", output);
        Assert.Contains("  security:     secure; REST https + tokens; MQTT plain, no login; ZeroMQ plain, capability events from this host (as the node says)", output);
        Assert.Contains("Motey.Val.Process (Active)", output);
        Assert.Contains($"  nodes:        1 ({_address})", output);
        Assert.DoesNotContain("WARNING", output);
        Assert.DoesNotContain(SecuredRest.ReadToken, output);

        using var anonymous = secured.Access.Client(_address, _port, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/nodes")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await anonymous.GetAsync("/v1/heartbeat")).StatusCode);
        using var admin = secured.Access.Client(_address, _port);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/nodes")).StatusCode);
    }

    [Fact]
    public async Task Status_of_an_open_mode_agent_says_OPEN_with_its_warning()
    {
        var secured = new SecuredRest(_folder, _address);
        await using var agent = AgentProcess.Start(_folder, _address, secured.With(new Dictionary<string, string> { ["SECURITY:mode"] = "open" }),
            secured.Access);
        (_config, _port) = (Path.Combine(_folder, "config.ini"), agent.Port);
        await agent.WaitHealthyAsync();
        Assert.Equal(HttpStatusCode.OK, (await agent.Client.GetAsync("/v1/security")).StatusCode);

        var (code, output) = await MoteyAsync("status");

        Assert.True(code == 0, output);
        Assert.Contains("  security:     OPEN (open mode); REST https + tokens;", output);
        Assert.Contains("  WARNING:      [SECURITY] mode = open: MQTT and ZeroMQ may run without authentication", output);
    }

    [Fact]
    public async Task With_client_certificates_start_says_it_cannot_check_health_and_status_says_why()
    {
        var secured = new SecuredRest(_folder, _address, clientCertificates: true);
        (_config, _port) = AgentProcess.WriteConfig(_folder, _address, secured.Settings);

        var (code, output) = await MoteyAsync("start");
        Assert.True(code == 0, output);
        Assert.Contains("its health is not checked: the API asks for a client certificate ([WEBSERVER] tls_client_ca)", output);
        using var withCertificate = secured.Access.Client(_address, _port);
        Assert.Equal(HttpStatusCode.NoContent, (await withCertificate.GetAsync("/v1/heartbeat")).StatusCode);

        (code, output) = await MoteyAsync("status");
        Assert.True(code == 0, output);
        Assert.Contains("  security:     secure; REST https + client certificates + tokens;", output);
        Assert.Contains("(as config.ini says)", output);
        Assert.Contains("  API:          not asked: it requires a client certificate ([WEBSERVER] tls_client_ca) and motey status has none", output);
    }

    [Fact]
    public async Task A_wrong_tokens_line_stops_motey_start_naming_file_and_line_but_not_the_token()
    {
        var secured = new SecuredRest(_folder, _address);
        File.WriteAllText(secured.TokensFile, $"admin {SecuredRest.AdminToken}\nreader {SecuredRest.ReadToken}\n");
        (_config, _port) = AgentProcess.WriteConfig(_folder, _address, secured.Settings);

        var (code, output) = await MoteyAsync("start");

        Assert.True(code == 1, output);
        Assert.Contains($"exited with code 2 while starting: cannot start: {secured.TokensFile}:2: [WEBSERVER] tokens: the first word must be the role", output);
        Assert.DoesNotContain(SecuredRest.ReadToken, output);
        Assert.DoesNotContain(SecuredRest.ReadToken, File.ReadAllText(Path.Combine(_folder, "logs", "motey.out")));
        Assert.False(File.Exists(PidPath), "no agent is left running");
    }
}
