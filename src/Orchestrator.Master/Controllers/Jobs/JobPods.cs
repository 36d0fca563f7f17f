using k8s.Models;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Jobs;

/// <summary>
/// The pods a Job creates (Kubernetes' job controller's manageJob): the template's pod with the controller reference,
/// named <c>&lt;job&gt;-&lt;random&gt;</c>; an Indexed Job's pod also
/// carries its completion index (annotation and label), the JOB_COMPLETION_INDEX variable in every container, the
/// hostname <c>&lt;job&gt;-&lt;index&gt;</c> and the name <c>&lt;job&gt;-&lt;index&gt;-&lt;random&gt;</c>. Pure.
/// </summary>
internal static class JobPods
{
    public static V1Pod New(V1Job job, int index = -1, int indexFailureCount = 0)
    {
        var template = KubeObjects.Clone(job.Spec.Template ?? new V1PodTemplateSpec());
        var spec = template.Spec ?? new V1PodSpec();
        var labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
        var annotations = template.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : new Dictionary<string, string>();
        var finalizers = template.Metadata?.Finalizers;
        var prefix = PodReplicaSync.GenerateNamePrefix(job.Metadata.Name);
        if (index >= 0)
        {
            annotations[JobFacts.CompletionIndexAnnotation] = index.ToString();
            labels[JobFacts.CompletionIndexLabel] = index.ToString();
            if (JobFacts.HasBackoffLimitPerIndex(job)) annotations[JobFacts.IndexFailureCountAnnotation] = indexFailureCount.ToString();
            if (string.IsNullOrEmpty(spec.Hostname)) spec.Hostname = $"{job.Metadata.Name}-{index}";
            prefix = PodReplicaSync.GenerateNamePrefix($"{job.Metadata.Name}-{index}");
            foreach (var container in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
            {
                container.Env ??= new List<V1EnvVar>();
                if (container.Env.Any(e => e.Name == JobFacts.CompletionIndexEnv)) continue;
                container.Env.Add(new V1EnvVar
                {
                    Name = JobFacts.CompletionIndexEnv,
                    ValueFrom = new V1EnvVarSource
                    {
                        FieldRef = new V1ObjectFieldSelector { FieldPath = $"metadata.annotations['{JobFacts.CompletionIndexAnnotation}']" },
                    },
                });
            }
        }
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = prefix + PodReplicaSync.RandomSuffix(),
                GenerateName = prefix,
                NamespaceProperty = job.Metadata.NamespaceProperty,
                Labels = labels.Count == 0 ? null : labels,
                Annotations = annotations.Count == 0 ? null : annotations,
                Finalizers = finalizers is { Count: > 0 } ? finalizers.ToList() : null,
                OwnerReferences = [OwnerReferences.NewControllerRef(job)],
            },
            Spec = spec,
        };
    }

    /// <summary>The first <paramref name="count"/> indexes below completions that neither succeeded, nor failed for good,
    /// nor have an active pod (Kubernetes' firstPendingIndexes).</summary>
    public static List<int> FirstPendingIndexes(int completions, IndexSet succeeded, IndexSet failed, IEnumerable<V1Pod> active, int count)
    {
        var taken = active.Select(JobFacts.CompletionIndex).Where(i => i >= 0).ToHashSet();
        var result = new List<int>();
        for (var i = 0; i < completions && result.Count < count; i++)
            if (!succeeded.Contains(i) && !failed.Contains(i) && !taken.Contains(i)) result.Add(i);
        return result;
    }
}
