using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Batch;

/// <summary>
/// batch/v1 Job (Kubernetes' job strategy and batch validation): SetDefaults_Job (parallelism and completions 1,
/// backoffLimit 6, NonIndexed, not suspended, podReplacementPolicy), the generated selector on create
/// (<c>batch.kubernetes.io/controller-uid</c>) with its four template labels, the spec rules (non-negative numbers,
/// restartPolicy OnFailure or Never, Indexed with completions, backoffLimitPerIndex/maxFailedIndexes, podFailurePolicy,
/// successPolicy), and on update what may not change.
/// </summary>
internal sealed class JobStrategy : ModelStrategy<V1Job>
{
    public const string ControllerUidLabel = "batch.kubernetes.io/controller-uid";
    public const string JobNameLabel = "batch.kubernetes.io/job-name";
    public const string LegacyControllerUidLabel = "controller-uid";
    public const string LegacyJobNameLabel = "job-name";
    private const int MaxParallelismForIndexedJob = 100_000;
    private const int MaxFailedIndexesForIndexedJob = 100_000;
    private static readonly string[] JobRestartPolicies = ["OnFailure", "Never"];

    protected override void PrepareForCreate(V1Job job)
    {
        job.Status = new V1JobStatus();
        DisabledPodFields.DropFromTemplate(job.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1Job job, V1Job old) =>
        DisabledPodFields.DropFromTemplate(job.Spec?.Template, old.Spec?.Template);

    protected override void Default(V1Job job)
    {
        var spec = job.Spec ??= new V1JobSpec();
        if (spec.Completions is null && spec.Parallelism is null)
        {
            spec.Completions = 1;
            spec.Parallelism = 1;
        }
        spec.Parallelism ??= 1;
        spec.BackoffLimit ??= spec.BackoffLimitPerIndex is not null ? int.MaxValue : 6;
        spec.CompletionMode ??= "NonIndexed";
        spec.Suspend ??= false;
        spec.PodReplacementPolicy ??= spec.PodFailurePolicy is not null ? "Failed" : "TerminatingOrFailed";
        foreach (var rule in spec.PodFailurePolicy?.Rules ?? [])
        foreach (var pattern in rule.OnPodConditions ?? [])
            pattern.Status ??= "True";
        if ((job.Metadata.Labels is null || job.Metadata.Labels.Count == 0) && spec.Template?.Metadata?.Labels is { Count: > 0 } labels)
            job.Metadata.Labels = new Dictionary<string, string>(labels);
        PodSpecs.Default(spec.Template?.Spec);
    }

    protected override void Validate(V1Job job, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (job.Spec!.ManualSelector != true) GenerateSelector(job);
        ValidateJob(job, causes);
    }

    /// <summary>Kubernetes' generateSelector: the template gets the controller-uid and job-name labels (new and legacy
    /// keys), and a missing selector becomes matchLabels batch.kubernetes.io/controller-uid=&lt;uid&gt;.</summary>
    public static void GenerateSelector(V1Job job)
    {
        var template = job.Spec.Template ??= new V1PodTemplateSpec();
        template.Metadata ??= new V1ObjectMeta();
        var labels = template.Metadata.Labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>());
        var uid = job.Metadata.Uid ?? "";
        labels.TryAdd(LegacyControllerUidLabel, uid);
        labels.TryAdd(LegacyJobNameLabel, job.Metadata.Name);
        labels.TryAdd(ControllerUidLabel, uid);
        labels.TryAdd(JobNameLabel, job.Metadata.Name);
        job.Spec.Selector ??= new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [ControllerUidLabel] = uid } };
    }

    private static void ValidateJob(V1Job job, List<StoreErrorCause> causes)
    {
        var spec = job.Spec!;
        if (spec.ManualSelector != true && spec.Selector is not null)
        {
            var labels = spec.Template?.Metadata?.Labels ?? new Dictionary<string, string>();
            foreach (var (key, value) in new[] { (LegacyControllerUidLabel, job.Metadata.Uid), (LegacyJobNameLabel, job.Metadata.Name),
                         (ControllerUidLabel, job.Metadata.Uid), (JobNameLabel, job.Metadata.Name) })
                if (!labels.TryGetValue(key, out var actual)) causes.Add(FieldErrors.Required($"spec.template.metadata.labels[{key}]"));
                else if (actual != value)
                    causes.Add(FieldErrors.Invalid($"spec.template.metadata.labels[{key}]", actual, $"must be '{value}'"));
            var expected = new Dictionary<string, string>
            {
                [LegacyControllerUidLabel] = job.Metadata.Uid ?? "", [LegacyJobNameLabel] = job.Metadata.Name,
                [ControllerUidLabel] = job.Metadata.Uid ?? "", [JobNameLabel] = job.Metadata.Name,
            };
            if (!LabelSelector.FromLabelSelector(spec.Selector).Matches(expected))
                causes.Add(FieldErrors.Invalid("spec.selector", Selectors.Format(spec.Selector), "`selector` not auto-generated"));
        }
        ValidateSpec(spec, "spec", causes);
        if (spec.Selector is null) causes.Add(FieldErrors.Required("spec.selector"));
        else
        {
            var syntax = new List<StoreErrorCause>();
            LabelRules.ValidateSelector(spec.Selector, "spec.selector", syntax);
            causes.AddRange(syntax);
            if (syntax.Count == 0 && !LabelSelector.FromLabelSelector(spec.Selector).Matches(spec.Template?.Metadata?.Labels))
                causes.Add(FieldErrors.Invalid("spec.template.metadata.labels", spec.Template?.Metadata?.Labels ?? new Dictionary<string, string>(),
                    "`selector` does not match template `labels`"));
        }
        if (spec.CompletionMode == "Indexed" && spec.Completions is > 0)
        {
            var hostname = $"{job.Metadata.Name}-{spec.Completions - 1}";
            if (Names.Check(hostname, Names.Rule.Dns1123Label).Any())
                causes.Add(FieldErrors.Invalid("metadata.name", job.Metadata.Name, $"will not able to create pod with invalid DNS label: {hostname}"));
        }
    }

    /// <summary>Kubernetes' validateJobSpec, shared with a CronJob's job template (at <paramref name="path"/>).</summary>
    public static void ValidateSpec(V1JobSpec spec, string path, List<StoreErrorCause> causes)
    {
        WorkloadRules.Nonnegative(spec.Parallelism, $"{path}.parallelism", causes);
        WorkloadRules.Nonnegative(spec.Completions, $"{path}.completions", causes);
        WorkloadRules.Nonnegative(spec.ActiveDeadlineSeconds, $"{path}.activeDeadlineSeconds", causes);
        WorkloadRules.Nonnegative(spec.BackoffLimit, $"{path}.backoffLimit", causes);
        WorkloadRules.Nonnegative(spec.TtlSecondsAfterFinished, $"{path}.ttlSecondsAfterFinished", causes);
        WorkloadRules.Nonnegative(spec.BackoffLimitPerIndex, $"{path}.backoffLimitPerIndex", causes);
        if (spec.MaxFailedIndexes is not null)
        {
            WorkloadRules.Nonnegative(spec.MaxFailedIndexes, $"{path}.maxFailedIndexes", causes);
            if (spec.BackoffLimitPerIndex is null) causes.Add(FieldErrors.Required($"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"));
        }
        if (spec.ManagedBy is not null)
            causes.Add(FieldErrors.Forbidden($"{path}.managedBy", "only the built-in job controller (kubernetes.io/job-controller) runs Jobs here"));
        var indexed = spec.CompletionMode == "Indexed";
        if (spec.CompletionMode is not null and not ("NonIndexed" or "Indexed"))
            causes.Add(FieldErrors.NotSupported($"{path}.completionMode", spec.CompletionMode, ["NonIndexed", "Indexed"]));
        if (indexed)
        {
            if (spec.Completions is null) causes.Add(FieldErrors.Required($"{path}.completions", "when completion mode is Indexed"));
            if (spec.Parallelism > MaxParallelismForIndexedJob)
                causes.Add(FieldErrors.Invalid($"{path}.parallelism", spec.Parallelism, $"must be less than or equal to {MaxParallelismForIndexedJob} when completion mode is Indexed"));
            if (spec.Completions is { } c && spec.MaxFailedIndexes > c)
                causes.Add(FieldErrors.Invalid($"{path}.maxFailedIndexes", spec.MaxFailedIndexes, "must be less than or equal to completions"));
            if (spec.MaxFailedIndexes > MaxFailedIndexesForIndexedJob)
                causes.Add(FieldErrors.Invalid($"{path}.maxFailedIndexes", spec.MaxFailedIndexes, $"must be less than or equal to {MaxFailedIndexesForIndexedJob}"));
        }
        else
        {
            if (spec.BackoffLimitPerIndex is { } perIndex)
                causes.Add(FieldErrors.Invalid($"{path}.backoffLimitPerIndex", perIndex, "requires indexed completion mode"));
            if (spec.MaxFailedIndexes is { } maxFailed)
                causes.Add(FieldErrors.Invalid($"{path}.maxFailedIndexes", maxFailed, "requires indexed completion mode"));
        }
        if (spec.PodFailurePolicy is not null) ValidatePodFailurePolicy(spec, $"{path}.podFailurePolicy", causes);
        if (spec.SuccessPolicy is not null)
        {
            if (!indexed) causes.Add(FieldErrors.Invalid($"{path}.successPolicy", new RawValue("batch.SuccessPolicy{...}"), "requires indexed completion mode"));
            else ValidateSuccessPolicy(spec, $"{path}.successPolicy", causes);
        }
        if (spec.PodReplacementPolicy is { } replacement)
        {
            if (spec.PodFailurePolicy is not null && replacement != "Failed")
                causes.Add(FieldErrors.NotSupported($"{path}.podReplacementPolicy", replacement, ["Failed"]));
            else if (replacement is not ("Failed" or "TerminatingOrFailed"))
                causes.Add(FieldErrors.NotSupported($"{path}.podReplacementPolicy", replacement, ["Failed", "TerminatingOrFailed"]));
        }

        var restart = spec.Template?.Spec?.RestartPolicy;
        if (spec.Template is null) causes.Add(FieldErrors.Required($"{path}.template.spec.containers"));
        else
        {
            LabelRules.ValidateLabels(spec.Template.Metadata?.Labels, $"{path}.template.metadata.labels", causes);
            PodSpecs.Validate(spec.Template.Spec, $"{path}.template.spec", causes, ["Always", "OnFailure", "Never"]);
        }
        if (restart is null or "Always")
            causes.Add(FieldErrors.Required($"{path}.template.spec.restartPolicy", "valid values: \"OnFailure\", \"Never\""));
        else if (!JobRestartPolicies.Contains(restart))
            causes.Add(FieldErrors.NotSupported($"{path}.template.spec.restartPolicy", restart, JobRestartPolicies));
        else if (spec.PodFailurePolicy is not null && restart != "Never")
            causes.Add(FieldErrors.Invalid($"{path}.template.spec.restartPolicy", restart, "only \"Never\" is supported when podFailurePolicy is specified"));
    }

    private static void ValidatePodFailurePolicy(V1JobSpec spec, string path, List<StoreErrorCause> causes)
    {
        var rules = spec.PodFailurePolicy.Rules ?? [];
        if (rules.Count > 20) causes.Add(WorkloadRules.TooMany($"{path}.rules", rules.Count, 20));
        var containers = (spec.Template?.Spec?.Containers ?? []).Concat(spec.Template?.Spec?.InitContainers ?? []).Select(c => c.Name).ToHashSet();
        string[] actions = ["Count", "FailIndex", "FailJob", "Ignore"];
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var at = $"{path}.rules[{i}]";
            if (string.IsNullOrEmpty(rule.Action))
                causes.Add(FieldErrors.Required($"{at}.action", "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]"));
            else if (rule.Action == "FailIndex" && spec.BackoffLimitPerIndex is null)
                causes.Add(FieldErrors.Invalid($"{at}.action", rule.Action, "requires the backoffLimitPerIndex to be set"));
            else if (!actions.Contains(rule.Action))
                causes.Add(FieldErrors.NotSupported($"{at}.action", rule.Action, actions));
            if (rule.OnExitCodes is { } exit)
            {
                var exitPath = $"{at}.onExitCodes";
                if (string.IsNullOrEmpty(exit.OperatorProperty))
                    causes.Add(FieldErrors.Required($"{exitPath}.operator", "valid values: [\"In\" \"NotIn\"]"));
                else if (exit.OperatorProperty is not ("In" or "NotIn"))
                    causes.Add(FieldErrors.NotSupported($"{exitPath}.operator", exit.OperatorProperty, ["In", "NotIn"]));
                if (exit.ContainerName is { } name && !containers.Contains(name))
                    causes.Add(FieldErrors.Invalid($"{exitPath}.containerName", name, "must be one of the container or initContainer names in the pod template"));
                var values = exit.Values ?? [];
                if (values.Count == 0) causes.Add(FieldErrors.Invalid($"{exitPath}.values", new RawValue("[]int32(nil)"), "at least one value is required"));
                else if (values.Count > 255) causes.Add(WorkloadRules.TooMany($"{exitPath}.values", values.Count, 255));
                var seen = new HashSet<int>();
                var ordered = true;
                for (var j = 0; j < values.Count; j++)
                {
                    if (exit.OperatorProperty == "In" && values[j] == 0)
                        causes.Add(FieldErrors.Invalid($"{exitPath}.values[{j}]", 0, "must not be 0 for the In operator"));
                    if (!seen.Add(values[j])) causes.Add(FieldErrors.Duplicate($"{exitPath}.values[{j}]", values[j]));
                    if (j > 0 && values[j - 1] > values[j]) ordered = false;
                }
                if (!ordered)
                    causes.Add(FieldErrors.Invalid($"{exitPath}.values", new RawValue($"[]int32{{{string.Join(", ", values)}}}"), "must be ordered"));
            }
            var patterns = rule.OnPodConditions ?? [];
            if (patterns.Count > 20) causes.Add(WorkloadRules.TooMany($"{at}.onPodConditions", patterns.Count, 20));
            for (var j = 0; j < patterns.Count; j++)
            {
                var p = patterns[j];
                foreach (var message in LabelRules.CheckKey(p.Type ?? ""))
                    causes.Add(FieldErrors.Invalid($"{at}.onPodConditions[{j}].type", p.Type, message));
                if (p.Status is not ("True" or "False" or "Unknown"))
                    causes.Add(FieldErrors.NotSupported($"{at}.onPodConditions[{j}].status", p.Status, ["False", "True", "Unknown"]));
            }
            if (rule.OnExitCodes is not null && patterns.Count > 0)
                causes.Add(new StoreErrorCause(at, "FieldValueInvalid", "Invalid value: \"\": specifying both OnExitCodes and OnPodConditions is not supported"));
            if (rule.OnExitCodes is null && patterns.Count == 0)
                causes.Add(new StoreErrorCause(at, "FieldValueInvalid", "Invalid value: \"\": specifying one of OnExitCodes and OnPodConditions is required"));
        }
    }

    private static void ValidateSuccessPolicy(V1JobSpec spec, string path, List<StoreErrorCause> causes)
    {
        var rules = spec.SuccessPolicy.Rules ?? [];
        if (rules.Count == 0) causes.Add(FieldErrors.Required($"{path}.rules", "at least one rules must be specified when the successPolicy is specified"));
        if (rules.Count > 20) causes.Add(WorkloadRules.TooMany($"{path}.rules", rules.Count, 20));
        var completions = spec.Completions ?? 0;
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var at = $"{path}.rules[{i}]";
            if (rule.SucceededCount is null && rule.SucceededIndexes is null)
                causes.Add(FieldErrors.Required(at, "at least one of succeededCount or succeededIndexes must be specified"));
            var total = 0;
            if (rule.SucceededIndexes is { } text)
            {
                if (IndexSet.TryParse(text, completions, out var set, out var error)) total = set.Count;
                else causes.Add(FieldErrors.Invalid($"{at}.succeededIndexes", text, $"error parsing succeededIndexes: {error}"));
            }
            if (rule.SucceededCount is { } count)
            {
                WorkloadRules.Nonnegative(count, $"{at}.succeededCount", causes);
                if (count > completions)
                    causes.Add(FieldErrors.Invalid($"{at}.succeededCount", count, $"must be less than or equal to {completions} (the number of specified completions)"));
                if (rule.SucceededIndexes is not null && count > total)
                    causes.Add(FieldErrors.Invalid($"{at}.succeededCount", count, $"must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)"));
            }
        }
    }

    protected override void ValidateUpdate(V1Job job, V1Job old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        ValidateJob(job, causes);
        var (spec, previous) = (job.Spec!, old.Spec!);
        if (spec.CompletionMode == "Indexed" && spec.Completions != previous.Completions)
        {
            if (spec.Completions is not null && spec.Completions != spec.Parallelism)
                causes.Add(FieldErrors.Invalid("spec.completions", spec.Completions, "can only be modified in tandem with spec.parallelism"));
        }
        else WorkloadRules.Unchanged(spec.Completions, previous.Completions, "spec.completions", causes);
        WorkloadRules.Unchanged(spec.Selector, previous.Selector, "spec.selector", causes);
        WorkloadRules.Unchanged(spec.Template, previous.Template, "spec.template", causes);
        WorkloadRules.Unchanged(spec.CompletionMode, previous.CompletionMode, "spec.completionMode", causes);
        WorkloadRules.Unchanged(spec.PodFailurePolicy, previous.PodFailurePolicy, "spec.podFailurePolicy", causes);
        WorkloadRules.Unchanged(spec.BackoffLimitPerIndex, previous.BackoffLimitPerIndex, "spec.backoffLimitPerIndex", causes);
        WorkloadRules.Unchanged(spec.SuccessPolicy, previous.SuccessPolicy, "spec.successPolicy", causes);
    }
}
