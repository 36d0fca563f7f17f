using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Xunit;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>The ConfigMaps, Secrets and claims a pod references, in the order a walk of the pod finds them: each
/// container's env and envFrom (init, regular, ephemeral), the volumes and their projected sources, the pull secrets.</summary>
public sealed class PodReferencesTests
{
    private static V1Container Container(string name, string configMapKey, string secretKey, string configMapFrom, string secretFrom) => new()
    {
        Name = name,
        Env =
        [
            new V1EnvVar { Name = "A", Value = "plain" },
            new V1EnvVar { Name = "B", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = configMapKey, Key = "k" } } },
            new V1EnvVar { Name = "C", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secretKey, Key = "k" } } },
        ],
        EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMapFrom } }, new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secretFrom } }],
    };

    private static V1Pod Everything() => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns" },
        Spec = new V1PodSpec
        {
            InitContainers = [Container("init", "cm-init", "s-init", "cm-init-from", "s-init-from")],
            Containers = [Container("app", "cm-app", "s-app", "cm-app-from", "s-app-from"), new V1Container { Name = "bare" }],
            EphemeralContainers =
            [
                new V1EphemeralContainer
                {
                    Name = "debug",
                    Env = [new V1EnvVar { Name = "D", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "cm-debug", Key = "k" } } }],
                    EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "s-debug-from" } }],
                },
            ],
            Volumes =
            [
                new V1Volume { Name = "c", ConfigMap = new V1ConfigMapVolumeSource { Name = "cm-volume" } },
                new V1Volume { Name = "s", Secret = new V1SecretVolumeSource { SecretName = "s-volume" } },
                new V1Volume
                {
                    Name = "projected",
                    Projected = new V1ProjectedVolumeSource
                    {
                        Sources =
                        [
                            new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token" } },
                            new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "kube-root-ca.crt" } },
                            new V1VolumeProjection { Secret = new V1SecretProjection { Name = "s-projected" } },
                        ],
                    },
                },
                new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "data", ReadOnlyProperty = true } },
                new V1Volume { Name = "scratch", Ephemeral = new V1EphemeralVolumeSource() },
                new V1Volume { Name = "empty", EmptyDir = new V1EmptyDirVolumeSource() },
            ],
            ImagePullSecrets = [new V1LocalObjectReference { Name = "pull" }, new V1LocalObjectReference { Name = "" }],
        },
    };

    [Fact]
    public void ConfigMaps_and_secrets_come_in_the_order_of_the_pod()
    {
        var pod = Everything();
        Assert.Equal(["cm-init", "cm-init-from", "cm-app", "cm-app-from", "cm-debug", "cm-volume", "kube-root-ca.crt"], PodReferences.ConfigMaps(pod));
        Assert.Equal(["s-init", "s-init-from", "s-app", "s-app-from", "s-debug-from", "s-volume", "s-projected", "pull"], PodReferences.Secrets(pod));
        Assert.True(PodReferences.Uses(pod, "ns", "s-projected", secret: true));
        Assert.False(PodReferences.Uses(pod, "ns", "s-projected", secret: false));
        Assert.False(PodReferences.Uses(pod, "other", "cm-app", secret: false));
    }

    [Fact]
    public void A_pod_that_references_nothing_has_none()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "app" }] } };
        Assert.Empty(PodReferences.ConfigMaps(pod));
        Assert.Empty(PodReferences.Secrets(pod));
        Assert.Empty(VolumeFacts.Claims(pod));
        var noSpec = new V1Pod { Metadata = new V1ObjectMeta { Name = "q" } };
        Assert.Empty(PodReferences.Secrets(noSpec));
        Assert.Empty(VolumeFacts.Claims(noSpec));
    }

    [Fact]
    public void Claims_come_in_the_order_of_the_volumes_with_ephemeral_ones_named_after_the_pod()
    {
        Assert.Equal([new PodClaim("data", "data", false, true), new PodClaim("scratch", "p-scratch", true, false)], VolumeFacts.Claims(Everything()));
    }
}
