using k8s.Models;
using Orchestrator.Master.Admission.ServiceAccount;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.ServiceAccount;

/// <summary>kubernetes.io/enforce-mountable-secrets: a pod may reference only the secrets its account lists.</summary>
public sealed class EnforceMountableSecretsTests
{
    private static readonly V1ServiceAccount Robot = new()
    {
        Metadata = new V1ObjectMeta { Name = "robot", Annotations = new Dictionary<string, string> { ["kubernetes.io/enforce-mountable-secrets"] = "true" } },
        Secrets = [new V1ObjectReference { Name = "allowed" }],
        ImagePullSecrets = [new V1LocalObjectReference { Name = "regcred" }],
    };

    private static V1Pod Pod(Action<V1PodSpec> change)
    {
        var spec = new V1PodSpec { ServiceAccountName = "robot", Containers = [new V1Container { Name = "app" }] };
        change(spec);
        return new V1Pod { Metadata = new V1ObjectMeta { Name = "p" }, Spec = spec };
    }

    [Fact]
    public void Only_the_accounts_secrets_may_be_referenced_with_kubes_messages()
    {
        Assert.Null(ServiceAccountAdmission.SecretReferenceRefusal(Robot, Pod(s =>
        {
            s.Volumes = [new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "allowed" } }];
            s.ImagePullSecrets = [new V1LocalObjectReference { Name = "regcred" }];
        })));
        Assert.Equal("volume with secret.secretName=\"other\" is not allowed because service account robot does not reference that secret",
            ServiceAccountAdmission.SecretReferenceRefusal(Robot, Pod(s => s.Volumes = [new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "other" } }])));
        Assert.Equal("init container setup with envVar X referencing secret.secretName=\"other\" is not allowed because service account robot does not reference that secret",
            ServiceAccountAdmission.SecretReferenceRefusal(Robot, Pod(s => s.InitContainers = [new V1Container
            {
                Name = "setup", Env = [new V1EnvVar { Name = "X", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "other", Key = "k" } } }],
            }])));
        Assert.Equal("container app with envFrom referencing secret.secretName=\"other\" is not allowed because service account robot does not reference that secret",
            ServiceAccountAdmission.SecretReferenceRefusal(Robot, Pod(s => s.Containers[0].EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "other" } }])));
        Assert.Equal("imagePullSecrets[0].name=\"hub\" is not allowed because service account robot does not reference that imagePullSecret",
            ServiceAccountAdmission.SecretReferenceRefusal(Robot, Pod(s => s.ImagePullSecrets = [new V1LocalObjectReference { Name = "hub" }])));
    }

    [Fact]
    public void Ephemeral_containers_may_reference_only_the_accounts_secrets_with_kubes_messages()
    {
        static V1EphemeralContainer Debugger(string secret, bool envFrom) => new()
        {
            Name = "debugger",
            Env = envFrom ? null : [new V1EnvVar { Name = "X", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = "k" } } }],
            EnvFrom = envFrom ? [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secret } }] : null,
        };
        Assert.Null(ServiceAccountAdmission.EphemeralSecretReferenceRefusal(Robot, Pod(s => s.EphemeralContainers = [Debugger("allowed", false)])));
        Assert.Equal("ephemeral container debugger with envVar X referencing secret.secretName=\"other\" is not allowed because service account robot does not reference that secret",
            ServiceAccountAdmission.EphemeralSecretReferenceRefusal(Robot, Pod(s => s.EphemeralContainers = [Debugger("other", false)])));
        Assert.Equal("ephemeral container debugger with envFrom referencing secret.secretName=\"other\" is not allowed because service account robot does not reference that secret",
            ServiceAccountAdmission.EphemeralSecretReferenceRefusal(Robot, Pod(s => s.EphemeralContainers = [Debugger("other", true)])));
    }
}
