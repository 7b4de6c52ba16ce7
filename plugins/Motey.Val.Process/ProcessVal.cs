using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Motey.Abstractions;
using Motey.Val.Shared;

namespace Motey.Val.Process;

/// <summary>
/// The <c>process</c> VAL: runs an image as a local OS process, for nodes without a container engine. Linux only.
/// </summary>
/// <remarks>
/// <para><b>Images</b> are executables: an absolute path, or a name looked up on the agent's PATH. Nothing is ever
/// downloaded or deleted: loading an image only checks that it exists, deleting one does nothing.</para>
/// <para><b>Settings</b> (<c>[PROCESS]</c> in config.ini): <c>log_max_bytes</c> (see Logs below); <c>allowed_executables</c>, absolute paths of executables or
/// folders, comma-separated: an image runs only when the file it names (links followed) is one of them or inside one;
/// empty (the default) allows none. <c>run_as</c>: the user instances run as; empty means <c>nobody</c> when the agent
/// is root and the agent's own user otherwise. An agent that is not root cannot run instances as anyone else: a
/// <c>run_as</c> naming another user fails activation. The executable is checked by the node that runs the image,
/// before it deploys (<see cref="ValidateImage"/>) and again when an instance is created, so a peer's deploy request obeys it too.</para>
/// <para><b>Parameters</b>: <c>args</c> (list of strings; numbers and booleans become their text), <c>env</c> (map of
/// names to scalars, on top of the agent's environment), <c>working_directory</c> (absolute path that must exist;
/// default: the plugin's data directory, entered by the launcher before it switches user, so a <c>run_as</c> user may
/// be unable to read it: give such instances a <c>working_directory</c> of their own), <c>stop_timeout</c> (seconds
/// between SIGTERM and SIGKILL, default 10).</para>
/// <para><b>Instance ids</b> are <c>&lt;pid&gt;-&lt;starttime&gt;</c> with the start time from /proc/&lt;pid&gt;/stat,
/// so an id survives an agent restart and a recycled pid is never taken for ours. Every state query reads /proc.</para>
/// <para><b>Create and start</b>: <see cref="CreateInstanceAsync"/> launches <c>setsid /bin/sh</c>, which opens the
/// log and stops itself (SIGSTOP) just before it would exec the program: the instance exists, has its id and is
/// <see cref="ImageState.Initial"/>, and the program has not run. <see cref="StartInstanceAsync"/> sends SIGCONT and the
/// shell execs the program under the same pid (through <c>setpriv</c>, which drops to the <c>run_as</c> user's groups and
/// id just before the program, when that user is not the agent's). A process cannot run twice: once it has ended, starting it throws a
/// <see cref="ValException"/> (create a new instance instead), unlike the contract's stop-then-start.</para>
/// <para><b>Detached</b>: each instance has its own session and process group, so Ctrl-C in the agent's terminal does
/// not reach it and it outlives the agent. stdin is /dev/null; stdout and stderr go to
/// <c>&lt;DataDirectory&gt;/logs/&lt;id&gt;.log</c>, opened by the launcher with O_APPEND (<c>&gt;&gt;</c>).</para>
/// <para><b>Logs</b> (<see cref="ReadLogsAsync"/>): that file, stdout and stderr merged (<see cref="LogSource.Output"/>,
/// no times), kept after the process ends until the instance is removed. <c>log_max_bytes</c> (default 10 MiB, at
/// least 64 KiB) bounds it: once the log reaches half of it, it is copied to <c>&lt;id&gt;.log.1</c> and truncated,
/// checked every second and before each read (<see cref="LogFiles"/>; a line written during the copy can be lost).</para>
/// <para><b>Labels</b> (with the image name and stop timeout) are kept in <c>&lt;DataDirectory&gt;/instances/&lt;id&gt;.json</c>
/// from create to remove. Signals go only to processes that have such a record, so a mistaken id never stops an
/// unrelated process.</para>
/// <para><b>States</b>: held before start → Initial; running, sleeping or traced → Running; stopped by a signal →
/// Stopping; zombie, gone, or pid reused → Terminated.</para>
/// <para><b>Stats</b>: resident memory (VmRSS), CPU averaged over the process's life, created_at from its start time.
/// Network counters are always 0: Linux keeps none per process.</para>
/// </remarks>
public sealed class ProcessVal : IValPlugin
{
    /// <summary>How often the logs are checked for rotation, besides before each read.</summary>
    private static readonly TimeSpan RotationInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often a follow looks for new output.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);

    private const int ReadSize = 64 * 1024;

    private ILogger _logger = NullLogger.Instance;
    private DataFolders? _folders;
    private LogFiles? _logs;
    private CancellationTokenSource? _rotation;
    private ProcessSettings _settings = ProcessSettings.Closed;

    /// <inheritdoc />
    public string PluginType => "process";

    /// <inheritdoc />
    public Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || !ProcFs.IsAvailable || !File.Exists("/bin/sh"))
        {
            throw new ValException("the process engine needs Linux with /proc and /bin/sh");
        }
        var agent = AgentUser.Current;
        var settings = ProcessSettings.Read(context.Settings, agent, UserAccounts.Find, ProcessLauncher.CanSwitchUser);
        _logger = context.LoggerFactory.CreateLogger<ProcessVal>();
        var folders = new DataFolders(context.DataDirectory);
        Directory.CreateDirectory(folders.Instances);
        Directory.CreateDirectory(folders.Logs);
        _folders = folders;
        _settings = settings;
        var logs = new LogFiles(folders, settings.LogMaxBytes);
        _logs = logs;
        LogPolicy(settings, agent);
        _logger.LogInformation("Instance output kept up to {LogMaxBytes} bytes per instance ([PROCESS] log_max_bytes)", settings.LogMaxBytes);
        var rotation = new CancellationTokenSource();
        Interlocked.Exchange(ref _rotation, rotation)?.Cancel();
        _ = RotateLogsAsync(folders, logs, rotation.Token);
        OrphanLaunchers.End(folders, _logger);
        if (!ProcessLauncher.DetachesFromAgent)
        {
            _logger.LogWarning("setsid not found: process instances share the agent's session and end with a Ctrl-C in its terminal");
        }
        return Task.CompletedTask;
    }

    private void LogPolicy(ProcessSettings settings, AgentUser agent)
    {
        var user = settings.RunAs?.Name ?? agent.Name;
        if (settings.RunAs is null && agent.IsRoot)
            _logger.LogWarning("Process instances run as root ([PROCESS] run_as = {RunAs}): a blueprint's program can do anything on this host", user);
        else
            _logger.LogInformation("Process instances run as {RunAs}", user);
        if (settings.AllowedExecutables.Count == 0)
            _logger.LogInformation("No executable is allowed yet: [PROCESS] allowed_executables is empty, so every process blueprint is refused");
        else
            _logger.LogInformation("Executables allowed: {AllowedExecutables}", string.Join(", ", settings.AllowedExecutables));
    }

    /// <summary>Stops checking the logs for rotation; instances keep running and writing them.</summary>
    public Task DeactivateAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _rotation, null) is { } rotation)
        {
            rotation.Cancel();
            rotation.Dispose();
        }
        return Task.CompletedTask;
    }

    /// <summary>Every second, rotates each instance's log that has reached half of <c>log_max_bytes</c>.</summary>
    private async Task RotateLogsAsync(DataFolders folders, LogFiles logs, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RotationInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var id in folders.Records.Ids())
                {
                    try
                    {
                        if (logs.RotateIfFull(id)) _logger.LogDebug("Rotated the output of instance {InstanceId}", id.ToString());
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        _logger.LogWarning(e, "Could not rotate the output of instance {InstanceId}", id.ToString());
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Deactivated.
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ValidateParameters(IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var problems = new List<string>();
        ProcessParameters.Parse(parameters, problems);
        return problems;
    }

    /// <summary>The parameters, and whether the executable the image names is one <c>[PROCESS] allowed_executables</c> allows.</summary>
    public IReadOnlyList<string> ValidateImage(string imageName, IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var problems = new List<string>();
        if (ExecutableRefusal(imageName) is { } refusal) problems.Add($"name: {refusal}");
        ProcessParameters.Parse(parameters, problems);
        return problems;
    }

    /// <summary>
    /// Why the image may not run here, or null when it may. An executable that does not exist is checked as its path
    /// reads (where it would be); a bare name must be on the agent's PATH to be checked at all.
    /// </summary>
    private string? ExecutableRefusal(string imageName)
    {
        var executable = ExecutableLocator.Resolve(imageName) ?? (Path.IsPathFullyQualified(imageName) ? imageName : null);
        if (executable is null)
        {
            return $"'{imageName}' is not on this node's PATH, so it cannot be checked against [PROCESS] allowed_executables; "
                + "give the executable's absolute path";
        }
        return HostPaths.TryResolve(executable) is { } resolved
            ? _settings.Executable(executable, resolved)
            : $"executable {executable} cannot be checked: it leads through a loop of symbolic links or a folder the agent may not look at";
    }

    /// <summary>Whether the name resolves to an executable file on this node.</summary>
    public Task<bool> HasImageAsync(string imageName, CancellationToken cancellationToken) =>
        Task.FromResult(ExecutableLocator.Resolve(imageName) is not null);

    /// <summary>Nothing to download: throws <see cref="ValException"/> when the executable is not on this node.</summary>
    public Task LoadImageAsync(string imageName, CancellationToken cancellationToken)
    {
        if (ExecutableLocator.Resolve(imageName) is null) throw new ValException(ExecutableLocator.NotFoundMessage(imageName));
        return Task.CompletedTask;
    }

    /// <summary>Does nothing: the executables are the host's, not ours to delete.</summary>
    public Task DeleteImageAsync(string imageName, CancellationToken cancellationToken)
    {
        _logger.LogInformation("Not deleting image {ImageName}: the process engine never deletes host executables", imageName);
        return Task.CompletedTask;
    }

    /// <summary>Launches the process held before its program runs (see the class remarks) and returns its id.</summary>
    public async Task<string> CreateInstanceAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var folders = Folders;
        var problems = new List<string>();
        var parameters = ProcessParameters.Parse(spec.Parameters, problems);
        if (problems.Count > 0) throw new ValException(string.Join("; ", problems));
        var executable = ExecutableLocator.Resolve(spec.ImageName)
            ?? throw new ValException(ExecutableLocator.NotFoundMessage(spec.ImageName));
        // The same check as at POST: a deploy a peer asks for obeys this node's allow-list too.
        if (ExecutableRefusal(spec.ImageName) is { } refusal) throw new ValException($"name: {refusal}");
        var runAs = _settings.RunAs;
        var workingDirectory = parameters.WorkingDirectory ?? folders.Root;
        if (!Directory.Exists(workingDirectory))
        {
            throw new ValException($"parameters.working_directory: '{workingDirectory}' does not exist on this node");
        }

        // The id is known only once the process exists, so the log starts under a temporary name.
        var pendingLog = Path.Combine(folders.Logs, $"pending-{Guid.NewGuid():N}.log");
        ProcessInstanceId? id = null;
        try
        {
            var (pid, stat) = await ProcessLauncher.LaunchHeldAsync(executable, parameters, workingDirectory, pendingLog, runAs, cancellationToken);
            id = new ProcessInstanceId(pid, stat.StartTime);
            // The shell holds the log open; renaming keeps its descriptor pointing at the file.
            // A log under the same id can only be left from an earlier boot (pids and start times repeat).
            File.Move(pendingLog, folders.LogOf(id.Value), overwrite: true);
            File.Delete(Logs.RotatedOf(id.Value));
            var record = new InstanceRecord(
                spec.ImageName, executable, new Dictionary<string, string>(spec.Labels), parameters.StopTimeout.TotalSeconds,
                ProcFs.StartedAt(stat.StartTime), ProcFs.BootId);
            folders.Records.Write(id.Value, record);
            _logger.LogInformation("Created instance {InstanceId} of {ImageName} ({Executable}), to run as {RunAs}",
                id.Value.ToString(), spec.ImageName, executable, runAs?.Name ?? Environment.UserName);
            return id.Value.ToString();
        }
        catch
        {
            // Nothing refers to the instance yet: end its process (the launcher already did if it failed) and its files.
            if (id is { } created)
            {
                NativeMethods.TrySignal(created.Pid, NativeMethods.SigKill);
                Logs.Delete(created);
            }
            File.Delete(pendingLog);
            throw;
        }
    }

    /// <summary>
    /// Lets a created instance's program run (SIGCONT), or resumes a stopped one; a running instance is left alone.
    /// Throws <see cref="ValException"/> for an instance whose process has ended: it cannot be started again.
    /// </summary>
    public async Task StartInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (id, record) = Find(instanceId);
        if (record is null) throw new ValException($"instance '{instanceId}' does not exist on this node");
        var view = InstanceProbe.Inspect(id, record);
        switch (view.State)
        {
            case ImageState.Terminated:
                throw new ValException($"instance '{instanceId}' has ended and a process cannot be started again; create a new instance");
            case ImageState.Running:
                return;
        }
        // A paused leader is resumed with its group: whoever paused it most likely paused all of it.
        var leadsGroup = view.Stat is { } stat && stat.ProcessGroup == id.Pid;
        NativeMethods.TrySignal(leadsGroup ? -id.Pid : id.Pid, NativeMethods.SigCont);
        // Wait for the exec, so that the state read right after a start is the program's, not the launcher's.
        var clock = Stopwatch.StartNew();
        while (ProcessLauncher.IsLaunching(id.Pid) && InstanceProbe.Inspect(id, record).IsAlive && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10, cancellationToken);
        }
        _logger.LogInformation("Started instance {InstanceId}", instanceId);
    }

    /// <summary>SIGTERM to the instance's process group, then SIGKILL after <c>stop_timeout</c>. A gone instance is fine.</summary>
    public async Task StopInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (id, record) = Find(instanceId);
        if (record is null) return;
        await new ProcessStopper(_logger).StopAsync(id, record, cancellationToken);
    }

    /// <summary>Stops the process if it still runs, then deletes the instance's record and its output (both generations).</summary>
    public async Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (!ProcessInstanceId.TryParse(instanceId, out var id)) return;
        InstanceRecord? record;
        try
        {
            record = Folders.Records.Read(id);
        }
        catch (InvalidDataException e)
        {
            // The file is ours, so the id is too: remove it anyway, stopping with the default timeout.
            _logger.LogWarning(e, "Instance {InstanceId} has a damaged record; removing it with default settings", instanceId);
            record = new InstanceRecord("", "", new Dictionary<string, string>(), ProcessParameters.DefaultStopTimeout.TotalSeconds,
                DateTimeOffset.UtcNow, BootId: null);
        }
        if (record is null) return;
        await new ProcessStopper(_logger).StopAsync(id, record, cancellationToken);
        Folders.Records.Delete(id);
        Logs.Delete(id);
        ProcessLauncher.Forget(id.Pid);
        _logger.LogInformation("Removed instance {InstanceId}", instanceId);
    }

    /// <summary>True while the process lives (same pid and start time) or its record exists (until removed).</summary>
    public Task<bool> HasInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (id, record) = Find(instanceId);
        if (record is not null) return Task.FromResult(true);
        return Task.FromResult(id != default && InstanceProbe.Inspect(id, null).IsAlive);
    }

    /// <summary>Every instance created here whose process still lives (started or not), with its labels.</summary>
    public Task<IReadOnlyList<ValInstance>> GetRunningInstancesAsync(CancellationToken cancellationToken)
    {
        var running = new List<ValInstance>();
        foreach (var (id, record) in Records())
        {
            if (InstanceProbe.Inspect(id, record).IsAlive) running.Add(new ValInstance(id.ToString(), record.Image, record.Labels));
        }
        return Task.FromResult<IReadOnlyList<ValInstance>>(running);
    }

    /// <summary>
    /// Memory, CPU and start time from /proc; network counters are 0 (Linux has none per process).
    /// An ended instance that is not yet removed reports Terminated with zeros.
    /// </summary>
    public Task<ValInstanceStatus?> GetStatsAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (id, record) = Find(instanceId);
        if (id == default) return Task.FromResult<ValInstanceStatus?>(null);
        return Task.FromResult(InstanceStats.Of(id, record, InstanceProbe.Inspect(id, record)));
    }

    /// <summary>The sum over the instances that are running.</summary>
    public Task<SystemStatus> GetAllInstancesStatsAsync(CancellationToken cancellationToken)
    {
        var stats = new List<ValInstanceStatus>();
        foreach (var (id, record) in Records())
        {
            var view = InstanceProbe.Inspect(id, record);
            if (view.State == ImageState.Running && InstanceStats.Of(id, record, view) is { } s) stats.Add(s);
        }
        return Task.FromResult(SystemStatus.Sum(stats));
    }

    /// <inheritdoc />
    public Task<ImageState> GetInstanceStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (id, record) = Find(instanceId);
        return Task.FromResult(id == default ? ImageState.Terminated : InstanceProbe.Inspect(id, record).State);
    }

    /// <summary>
    /// What the instance printed, stdout and stderr merged (<see cref="LogSource.Output"/>, no times), across the rotated
    /// generation and the log; with follow, new lines as the log grows, until the process has ended and all it wrote is
    /// read, or the token is cancelled. The output stays readable after the process ends, until the instance is removed.
    /// Throws <see cref="ValException"/> (at the first line asked for) for an instance that this VAL does not have.
    /// </summary>
    public async IAsyncEnumerable<LogLine> ReadLogsAsync(
        string instanceId, LogRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (request.Tail is < 0) throw new ValException($"tail: expected a number of lines, 0 or more, got {request.Tail}");
        var (id, record) = Find(instanceId);
        if (record is null) throw new ValException($"instance '{instanceId}' does not exist on this node");
        if (request.Tail == 0 && !request.Follow) yield break;

        using var reader = LogFileReader.Open(Logs, id, request.Tail);
        var splitter = new LogLineSplitter(LogSource.Output);
        var lines = new List<LogLine>();
        var buffer = new byte[ReadSize];
        var ended = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            var read = reader.Read(buffer);
            if (read > 0)
            {
                splitter.Append(buffer.AsSpan(0, read), null, lines);
                foreach (var line in lines) yield return line;
                lines.Clear();
                continue;
            }
            if (!request.Follow || ended) break;
            // Ended: one more pass reads whatever it wrote before it did, then the follow is over.
            if (!InstanceProbe.Inspect(id, record).IsAlive)
            {
                ended = true;
                continue;
            }
            try
            {
                await Task.Delay(FollowInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
        if (cancellationToken.IsCancellationRequested) yield break;
        splitter.Flush(lines);
        foreach (var line in lines) yield return line;
    }

    /// <summary>The parsed id (default when it is not one of ours) and its record, if any.</summary>
    private (ProcessInstanceId Id, InstanceRecord? Record) Find(string instanceId)
    {
        if (!ProcessInstanceId.TryParse(instanceId, out var id)) return (default, null);
        return (id, Folders.Records.Read(id));
    }

    /// <summary>Every stored record; a damaged one is logged and skipped so that it does not hide the others.</summary>
    private IEnumerable<(ProcessInstanceId Id, InstanceRecord Record)> Records()
    {
        foreach (var id in Folders.Records.Ids())
        {
            InstanceRecord? record;
            try
            {
                record = Folders.Records.Read(id);
            }
            catch (InvalidDataException e)
            {
                _logger.LogWarning(e, "Skipping instance {InstanceId}: its record is damaged", id.ToString());
                continue;
            }
            if (record is not null) yield return (id, record);
        }
    }

    private DataFolders Folders => _folders ?? throw new InvalidOperationException("the process VAL is not activated");

    private LogFiles Logs => _logs ?? throw new InvalidOperationException("the process VAL is not activated");
}
