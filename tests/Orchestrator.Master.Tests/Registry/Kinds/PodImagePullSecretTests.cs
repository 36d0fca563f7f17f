using Xunit;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>Image pulls: the pull policy's default, a ServiceAccount's imagePullSecrets copied into new pods, and pull
/// secrets counted among the Secrets a pod's node receives.</summary>
public sealed class PodImagePullSecretTests
{
    private sealed class Context(params V1ServiceAccount[] accounts) : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
            storeName == "serviceaccounts" ? accounts.Where(a => a.Metadata.NamespaceProperty == @namespace).ToList() : [];
    }

    private static V1ServiceAccount Account(string name, params string[] pullSecrets) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        ImagePullSecrets = pullSecrets.Select(s => new V1LocalObjectReference { Name = s }).ToList(),
    };

    private static V1Pod Pod(string image = "127.0.0.1:5000/app", string? serviceAccount = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
        Spec = new V1PodSpec { ServiceAccountName = serviceAccount, Containers = [new V1Container { Name = "c", Image = image }] },
    };

    [Theory]
    [InlineData("127.0.0.1:5000/app", "Always")]
    [InlineData("nginx:latest", "Always")]
    [InlineData("127.0.0.1:5000/app:v1", "IfNotPresent")]
    [InlineData("app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "IfNotPresent")]
    public void A_new_pod_gets_Kubernetes_pull_policy_default(string image, string policy)
    {
        var pod = Pod(image);
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod, context: new Context()));
        Assert.Equal(policy, pod.Spec.Containers[0].ImagePullPolicy);
    }

    [Fact]
    public void A_new_pod_without_pull_secrets_gets_those_of_its_service_account()
    {
        var pod = Pod(serviceAccount: "builder");
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod, context: new Context(Account("default", "d"), Account("builder", "regcred", "other"))));
        Assert.Equal(["regcred", "other"], pod.Spec.ImagePullSecrets.Select(s => s.Name));

        var unnamed = Pod();
        Strategies.Admit(CoreResources.Pods, unnamed, context: new Context(Account("default", "d")));
        Assert.Equal(["d"], unnamed.Spec.ImagePullSecrets.Select(s => s.Name));
    }

    [Fact]
    public void A_pods_own_pull_secrets_are_kept()
    {
        var pod = Pod();
        pod.Spec.ImagePullSecrets = [new V1LocalObjectReference { Name = "mine" }];
        Strategies.Admit(CoreResources.Pods, pod, context: new Context(Account("default", "d")));
        Assert.Equal(["mine"], pod.Spec.ImagePullSecrets.Select(s => s.Name));
    }

    [Fact]
    public void Pull_secrets_are_among_the_secrets_the_pods_node_receives()
    {
        var pod = Pod();
        pod.Spec.ImagePullSecrets = [new V1LocalObjectReference { Name = "regcred" }];
        Assert.Equal(["regcred"], PodReferences.Secrets(pod));
        Assert.True(PodReferences.Uses(pod, "default", "regcred", secret: true));
    }
}
