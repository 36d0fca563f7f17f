using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Orchestrator.Master.Admission.Pods;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Pods;

/// <summary>The DefaultTolerationSeconds admission plugin, as kube's plugin/pkg/admission/defaulttolerationseconds.</summary>
public sealed class DefaultTolerationSecondsTests
{
    private sealed class NoObjects : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) => [];
    }

    private static readonly DefaultTolerationSeconds Plugin = new(new DefaultTolerationSeconds.Settings(300, 120));

    private static V1Pod Pod(params V1Toleration[] tolerations) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app" }], Tolerations = tolerations.Length == 0 ? null : tolerations.ToList() },
    };

    private static AdmissionMutation Admit(V1Pod pod, string operation = AdmissionAttributes.Create, string? subresource = null) =>
        Plugin.Admit(new AdmissionAttributes(CoreResources.Pods, operation, subresource, pod, null), new NoObjects());

    private static string Describe(V1Toleration t) => $"{t.Key}|{t.OperatorProperty}|{t.Effect}|{t.TolerationSeconds}";

    [Fact]
    public void A_pod_without_tolerations_gets_not_ready_and_unreachable_NoExecute_with_the_configured_seconds()
    {
        var pod = Pod();
        Assert.True(Admit(pod).Changed);
        Assert.Equal(["node.kubernetes.io/not-ready|Exists|NoExecute|300", "node.kubernetes.io/unreachable|Exists|NoExecute|120"],
            pod.Spec.Tolerations.Select(Describe));
    }

    [Fact]
    public void A_pod_that_tolerates_one_of_them_keeps_its_own_and_gets_only_the_other()
    {
        var own = new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 5 };
        var pod = Pod(own);
        Assert.True(Admit(pod).Changed);
        Assert.Equal(["node.kubernetes.io/not-ready|Exists|NoExecute|5", "node.kubernetes.io/unreachable|Exists|NoExecute|120"],
            pod.Spec.Tolerations.Select(Describe));
    }

    [Fact]
    public void A_toleration_of_every_key_or_every_effect_counts_but_one_of_NoSchedule_does_not()
    {
        var everything = Pod(new V1Toleration { OperatorProperty = "Exists" });
        Assert.False(Admit(everything).Changed);
        Assert.Single(everything.Spec.Tolerations);

        var anyEffect = Pod(new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists" });
        Admit(anyEffect);
        Assert.Equal(["node.kubernetes.io/unreachable|Exists||", "node.kubernetes.io/not-ready|Exists|NoExecute|300"],
            anyEffect.Spec.Tolerations.Select(Describe));

        var noSchedule = Pod(new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoSchedule" });
        Admit(noSchedule);
        Assert.Equal(3, noSchedule.Spec.Tolerations.Count);
    }

    [Fact]
    public void Updates_of_the_pod_get_them_but_subresources_and_other_kinds_do_not()
    {
        var updated = Pod();
        Assert.True(Admit(updated, AdmissionAttributes.Update).Changed);
        Assert.Equal(2, updated.Spec.Tolerations.Count);

        var status = Pod();
        Assert.False(Admit(status, AdmissionAttributes.Update, "status").Changed);
        Assert.Null(status.Spec.Tolerations);

        var rc = new V1ReplicationController
        {
            Metadata = new V1ObjectMeta { Name = "rc" },
            Spec = new V1ReplicationControllerSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec() } },
        };
        Assert.False(Plugin.Admit(new AdmissionAttributes(CoreResources.ReplicationControllers, AdmissionAttributes.Create, null, rc, null), new NoObjects()).Changed);
        Assert.Null(rc.Spec.Template.Spec.Tolerations);
    }

    private static DefaultTolerationSeconds.Settings From(params (string Key, string Value)[] flags) =>
        DefaultTolerationSeconds.Settings.From(new ConfigurationBuilder()
            .AddInMemoryCollection(flags.ToDictionary(f => f.Key, f => (string?)f.Value)).Build());

    [Fact]
    public void The_seconds_come_from_kubes_two_flags_else_from_pod_eviction_timeout_else_300()
    {
        Assert.Equal(new DefaultTolerationSeconds.Settings(300, 300), From());
        Assert.Equal(new DefaultTolerationSeconds.Settings(0, 0), From(("pod-eviction-timeout", "0")));
        Assert.Equal(new DefaultTolerationSeconds.Settings(60, 60), From(("pod-eviction-timeout", "60")));
        Assert.Equal(new DefaultTolerationSeconds.Settings(2, 2), From(("pod-eviction-timeout", "1.5"))); // rounded up
        Assert.Equal(new DefaultTolerationSeconds.Settings(30, 60),
            From(("pod-eviction-timeout", "60"), ("default-not-ready-toleration-seconds", "30")));
        Assert.Equal(new DefaultTolerationSeconds.Settings(300, 10), From(("default-unreachable-toleration-seconds", "10")));
        Assert.Null(DefaultTolerationSeconds.Settings.Problem("-1"));
        Assert.Equal("must be a whole number of seconds", DefaultTolerationSeconds.Settings.Problem("1.5"));
    }
}
