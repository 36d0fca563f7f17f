using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Batch;

/// <summary>The batch group (<c>/apis/batch/v1</c>).</summary>
internal static class BatchResources
{
    public static readonly ResourceDescription Jobs = new()
    {
        Group = "batch", Version = "v1", Resource = "jobs", Kind = "Job", Namespaced = true,
        ObjectType = typeof(V1Job), Strategy = new JobStrategy(), Printer = new JobTablePrinter(),
        Categories = ["all"], Subresources = [SubresourceDescription.Status("Job")],
        SelectableFields = ["status.successful"], ProtobufMessage = "k8s.io.api.batch.v1.Job",
    };

    public static readonly ResourceDescription CronJobs = new()
    {
        Group = "batch", Version = "v1", Resource = "cronjobs", Kind = "CronJob", Namespaced = true,
        ObjectType = typeof(V1CronJob), Strategy = new CronJobStrategy(), Printer = new CronJobTablePrinter(),
        ShortNames = ["cj"], Categories = ["all"], Subresources = [SubresourceDescription.Status("CronJob")],
        ProtobufMessage = "k8s.io.api.batch.v1.CronJob",
    };

    public static IReadOnlyList<ResourceDescription> All => [Jobs, CronJobs];
}
