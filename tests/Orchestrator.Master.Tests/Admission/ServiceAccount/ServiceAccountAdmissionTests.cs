using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.ServiceAccount;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.ServiceAccount;

/// <summary>The ServiceAccount admission on pod creation, as kube's plugin/pkg/admission/serviceaccount.</summary>
public sealed class ServiceAccountAdmissionTests
{
    private sealed class Objects(params IKubernetesObject<V1ObjectMeta>[] objects) : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
            storeName == "serviceaccounts" ? objects.Where(o => @namespace is null || o.Metadata.NamespaceProperty == @namespace).ToList() : [];
    }

    private static readonly ServiceAccountAdmission Admission = new(prefix => prefix + "abcde");

    private static V1ServiceAccount Account(string name, bool? automount = null, string ns = "ns") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = "uid-" + name },
        AutomountServiceAccountToken = automount,
    };

    private static V1Pod Pod(string? account = null, bool? automount = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "ns" },
        Spec = new V1PodSpec
        {
            ServiceAccountName = account, AutomountServiceAccountToken = automount,
            InitContainers = [new V1Container { Name = "init", Image = "busybox" }],
            Containers = [new V1Container { Name = "app", Image = "nginx" }, new V1Container { Name = "side", Image = "busybox" }],
            EphemeralContainers = [new V1EphemeralContainer { Name = "debug", Image = "busybox" }],
        },
    };

    private static StoreError? Admit(V1Pod pod, IAdmissionContext context, string operation = AdmissionAttributes.Create) =>
        Admission.Admit(new AdmissionAttributes(CoreResources.Pods, operation, null, pod, null), context).Refusal;

    [Fact]
    public void A_pod_gets_the_default_account_and_the_kube_api_access_volume_in_every_container()
    {
        var pod = Pod();
        Assert.Null(Admit(pod, new Objects(Account("default"))));

        Assert.Equal("default", pod.Spec.ServiceAccountName);
        var volume = Assert.Single(pod.Spec.Volumes);
        Assert.Equal("kube-api-access-abcde", volume.Name);
        var projected = volume.Projected;
        Assert.Equal(420, projected.DefaultMode);
        Assert.Equal(3, projected.Sources.Count);
        Assert.Equal("token", projected.Sources[0].ServiceAccountToken.Path);
        Assert.Equal(3607, projected.Sources[0].ServiceAccountToken.ExpirationSeconds);
        Assert.Null(projected.Sources[0].ServiceAccountToken.Audience);
        Assert.Equal("kube-root-ca.crt", projected.Sources[1].ConfigMap.Name);
        Assert.Equal(("ca.crt", "ca.crt"), (projected.Sources[1].ConfigMap.Items[0].Key, projected.Sources[1].ConfigMap.Items[0].Path));
        Assert.Equal("namespace", projected.Sources[2].DownwardAPI.Items[0].Path);
        Assert.Equal(("v1", "metadata.namespace"),
            (projected.Sources[2].DownwardAPI.Items[0].FieldRef.ApiVersion, projected.Sources[2].DownwardAPI.Items[0].FieldRef.FieldPath));
        foreach (var container in pod.Spec.InitContainers.Concat(pod.Spec.Containers))
        {
            var mount = Assert.Single(container.VolumeMounts);
            Assert.Equal(("kube-api-access-abcde", "/var/run/secrets/kubernetes.io/serviceaccount", true),
                (mount.Name, mount.MountPath, mount.ReadOnlyProperty == true));
        }
        Assert.Null(pod.Spec.EphemeralContainers[0].VolumeMounts);
    }

    [Fact]
    public void A_missing_account_is_refused_with_kubes_forbidden_message()
    {
        var error = Admit(Pod("robot"), new Objects(Account("default")));

        Assert.NotNull(error);
        Assert.Equal(403, error.Code);
        Assert.Equal("Forbidden", error.Reason);
        Assert.Equal("pods \"web\" is forbidden: error looking up service account ns/robot: serviceaccount \"robot\" not found", error.Message);
        Assert.Null(error.RetryAfter);
    }

    [Fact]
    public void A_missing_default_account_may_be_retried_and_a_generated_name_is_named_by_its_prefix()
    {
        var pod = Pod();
        pod.Metadata.Name = null;
        pod.Metadata.GenerateName = "web-";
        var error = Admit(pod, new Objects(Account("default", ns: "other")));

        Assert.NotNull(error);
        Assert.Equal("pods \"web-\" is forbidden: error looking up service account ns/default: serviceaccount \"default\" not found", error.Message);
        Assert.NotNull(error.RetryAfter);
    }

    [Theory]
    [InlineData(false, null, false)]
    [InlineData(null, false, false)]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    [InlineData(null, null, true)]
    [InlineData(null, true, true)]
    public void Automount_follows_the_pod_then_the_account(bool? onPod, bool? onAccount, bool mounted)
    {
        var pod = Pod("robot", onPod);
        Assert.Null(Admit(pod, new Objects(Account("robot", onAccount))));
        Assert.Equal("robot", pod.Spec.ServiceAccountName);
        Assert.Equal(mounted, pod.Spec.Volumes is { Count: 1 });
        Assert.Equal(mounted, pod.Spec.Containers[0].VolumeMounts is { Count: 1 });
    }

    [Fact]
    public void A_container_mounting_the_path_already_keeps_its_mount_and_a_pod_where_all_do_gets_no_volume()
    {
        var pod = Pod();
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "mine", MountPath = "/var/run/secrets/kubernetes.io/serviceaccount" }];
        Assert.Null(Admit(pod, new Objects(Account("default"))));
        Assert.Equal("mine", Assert.Single(pod.Spec.Containers[0].VolumeMounts).Name);
        Assert.Equal("kube-api-access-abcde", Assert.Single(pod.Spec.Containers[1].VolumeMounts).Name);
        Assert.Single(pod.Spec.Volumes);

        var all = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "all", NamespaceProperty = "ns" },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container
                {
                    Name = "c", Image = "i",
                    VolumeMounts = [new V1VolumeMount { Name = "mine", MountPath = "/var/run/secrets/kubernetes.io/serviceaccount" }],
                }],
            },
        };
        Assert.Null(Admit(all, new Objects(Account("default"))));
        Assert.Null(all.Spec.Volumes);
    }

    [Fact]
    public void An_existing_kube_api_access_volume_is_mounted_not_added_again()
    {
        var pod = Pod();
        pod.Spec.Volumes = [new V1Volume { Name = "kube-api-access-zzzzz", Projected = ServiceAccountAdmission.TokenVolumeSource() }];
        Assert.Null(Admit(pod, new Objects(Account("default"))));
        Assert.Single(pod.Spec.Volumes);
        Assert.All(pod.Spec.Containers, c => Assert.Equal("kube-api-access-zzzzz", Assert.Single(c.VolumeMounts).Name));
    }

    [Fact]
    public void The_accounts_pull_secrets_go_to_a_pod_without_its_own()
    {
        var account = Account("default");
        account.ImagePullSecrets = [new V1LocalObjectReference { Name = "registry" }];
        var pod = Pod();
        Assert.Null(Admit(pod, new Objects(account)));
        Assert.Equal("registry", Assert.Single(pod.Spec.ImagePullSecrets).Name);

        var own = Pod();
        own.Spec.ImagePullSecrets = [new V1LocalObjectReference { Name = "mine" }];
        Assert.Null(Admit(own, new Objects(account)));
        Assert.Equal("mine", Assert.Single(own.Spec.ImagePullSecrets).Name);
    }

    [Fact]
    public void Updates_and_other_resources_are_left_alone()
    {
        var pod = Pod("robot");
        Assert.Null(Admit(pod, new Objects(), AdmissionAttributes.Update));
        Assert.Null(pod.Spec.Volumes);
    }

    [Fact]
    public void An_ephemeral_containers_update_may_reference_only_the_secrets_an_enforcing_account_lists()
    {
        var robot = Account("robot");
        robot.Metadata.Annotations = new Dictionary<string, string> { [ServiceAccountAdmission.EnforceMountableSecretsAnnotation] = "true" };
        robot.Secrets = [new V1ObjectReference { Name = "allowed" }];
        var pod = Pod("robot");
        pod.Spec.EphemeralContainers[0].EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "other" } }];
        StoreError? Update(V1Pod updated, params IKubernetesObject<V1ObjectMeta>[] objects) =>
            Admission.Admit(new AdmissionAttributes(CoreResources.Pods, AdmissionAttributes.Update, "ephemeralcontainers", updated, Pod("robot")),
                new Objects(objects)).Refusal;

        var refusal = Update(pod, robot);
        Assert.Equal(403, refusal!.Code);
        Assert.Equal("pods \"web\" is forbidden: ephemeral container debug with envFrom referencing secret.secretName=\"other\" is not allowed " +
                     "because service account robot does not reference that secret", refusal.Message);
        Assert.Contains("serviceaccount \"robot\" not found", Update(pod)!.Message);
        robot.Metadata.Annotations.Clear();
        Assert.Null(Update(pod, robot)); // an account that does not enforce lets any secret through
    }
}
