using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Motey.Host.Core.Placement;

namespace Motey.Host.Core.Orchestration;

/// <summary>
/// Runs the orchestrator's commands as they come (each service's work in its own task), a reconcile pass every
/// [ORCHESTRATOR] reconcile_interval plus one right after each command, and tries images that wait for a node again
/// when the cluster changes or every wait_retry.
/// </summary>
public sealed class OrchestrationWorker(
    Orchestrator orchestrator, ClusterChanges changes, OrchestratorSettings settings, ILogger<OrchestrationWorker> log)
    : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await orchestrator.ResumeAsync(stoppingToken);
        var running = new List<Task> { ReconcileLoopAsync(stoppingToken), WaitingLoopAsync(stoppingToken) };
        try
        {
            await foreach (var command in orchestrator.Commands.ReadAllAsync(stoppingToken))
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(RunAsync(command, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(running);
    }

    private async Task RunAsync(OrchestrationCommand command, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Yield();
            await orchestrator.RunAsync(command, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogError(e, "{Command} failed", command.Show());
        }
        _wake.Release();
    }

    private async Task WaitingLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await changes.WaitAsync(settings.WaitRetry, stoppingToken);
                await orchestrator.RetryWaitingAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "Trying waiting images again failed");
            }
        }
    }

    private async Task ReconcileLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(settings.ReconcileInterval, stoppingToken);
                await orchestrator.ReconcileAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A failed pass (store busy, a node answering nonsense) is retried on the next one.
                log.LogError(e, "Reconcile pass failed");
            }
        }
    }
}
