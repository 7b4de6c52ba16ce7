namespace Motey.EndToEnd.Tests.Cli;

/// <summary>The client commands against an agent with HTTPS and tokens: the config's certificate pinned, its tokens used by role.</summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class SecuredCliTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("motey-cli-secured-").FullName;
    private AgentProcess? _agent;
    private string Config => Path.Combine(_folder, "config.ini");

    public async Task InitializeAsync()
    {
        var address = AgentProcess.NextAddress();
        var secured = new SecuredRest(_folder, address);
        _agent = AgentProcess.Start(_folder, address, secured.Settings, secured.Access);
        await _agent.WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null) await _agent.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task The_config_gives_the_certificate_and_a_token_of_the_right_role_for_reads_and_changes()
    {
        var ls = await MoteyCli.RunAsync(["capabilities", "ls", "--config", Config]);
        Assert.True(ls.Code == 0, ls.ToString());
        Assert.Matches(@"(?m)^simulated +plugin$", ls.Out);

        // The tokens file holds an admin token too: a change uses it.
        var add = await MoteyCli.RunAsync(["capabilities", "add", "lab", "--config", Config]);
        Assert.True(add.Code == 0, add.ToString());
        Assert.DoesNotContain(SecuredRest.AdminToken, add.Out + add.Error);
    }

    [Fact]
    public async Task A_read_token_cannot_change_anything_and_a_wrong_token_is_refused_both_exit_1()
    {
        var read = new Dictionary<string, string> { ["MOTEY_TOKEN"] = SecuredRest.ReadToken };
        var listed = await MoteyCli.RunAsync(["service", "ls", "--config", Config], environment: read);
        Assert.True(listed.Code == 0, listed.ToString());

        var add = await MoteyCli.RunAsync(["capabilities", "add", "lab", "--config", Config], environment: read);
        Assert.Equal(1, add.Code);
        Assert.Contains("does not allow it (403); changes need an admin token", add.Error);

        var wrong = await MoteyCli.RunAsync(["nodes", "--config", Config, "--token", "not-a-token-of-this-node"]);
        Assert.Equal(1, wrong.Code);
        Assert.Contains("refused the token from the token given (--token or $MOTEY_TOKEN) (401)", wrong.Error);
    }

    [Fact]
    public async Task A_node_whose_certificate_is_not_trusted_does_not_answer_exit_3()
    {
        // The node's address, but no config naming its certificate: the system does not trust the throwaway CA.
        var result = await MoteyCli.RunAsync(["nodes", "--url", $"https://{_agent!.Address}:{_agent.Port}", "--token", SecuredRest.ReadToken]);

        Assert.Equal(3, result.Code);
        Assert.Contains("does not answer", result.Error);
        Assert.Contains("TLS certificate is not trusted", result.Error);
    }
}
