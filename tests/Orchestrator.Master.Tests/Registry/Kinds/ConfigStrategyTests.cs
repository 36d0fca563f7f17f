using System.Text;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public sealed class ConfigStrategyTests
{
    private static V1ConfigMap ConfigMap(string value, bool? immutable = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "cm", NamespaceProperty = "default" },
        Data = new Dictionary<string, string> { ["k"] = value }, Immutable = immutable,
    };

    [Fact]
    public void An_immutable_config_map_keeps_its_data_and_its_flag()
    {
        var old = ConfigMap("1", immutable: true);
        Assert.Empty(Strategies.Admit(CoreResources.ConfigMaps, old));

        var changed = Strategies.Admit(CoreResources.ConfigMaps, ConfigMap("2", immutable: true), old);
        var cause = Assert.Single(changed);
        Assert.Equal(("data", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"), (cause.Field, cause.Reason, cause.Message));

        var unset = Strategies.Admit(CoreResources.ConfigMaps, ConfigMap("1", immutable: false), old);
        Assert.Equal("immutable", Assert.Single(unset).Field);

        // a mutable one may change, and may become immutable
        Assert.Empty(Strategies.Admit(CoreResources.ConfigMaps, ConfigMap("2", immutable: true), ConfigMap("1")));
    }

    [Fact]
    public void Config_map_keys_must_be_config_keys()
    {
        var cm = ConfigMap("1");
        cm.Data["bad/key"] = "x";
        var cause = Assert.Single(Strategies.Admit(CoreResources.ConfigMaps, cm));
        Assert.Equal("data[bad/key]", cause.Field);
        Assert.StartsWith("Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters", cause.Message);
    }

    [Fact]
    public void A_secrets_string_data_is_merged_into_data_and_not_kept()
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s", NamespaceProperty = "default" },
            Data = new Dictionary<string, byte[]> { ["a"] = "old"u8.ToArray(), ["b"] = "kept"u8.ToArray() },
            StringData = new Dictionary<string, string> { ["a"] = "new" },
        };
        Assert.Empty(Strategies.Admit(CoreResources.Secrets, secret));
        Assert.Null(secret.StringData);
        Assert.Equal("Opaque", secret.Type);
        Assert.Equal(["a=new", "b=kept"], secret.Data.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={Encoding.UTF8.GetString(kv.Value)}"));
    }

    [Fact]
    public void An_immutable_secret_keeps_its_data_and_no_secret_keeps_another_type()
    {
        V1Secret Secret(string value, string type = "Opaque") => new()
        {
            Metadata = new V1ObjectMeta { Name = "s", NamespaceProperty = "default" }, Type = type, Immutable = true,
            Data = new Dictionary<string, byte[]> { ["k"] = Encoding.UTF8.GetBytes(value) },
        };
        var causes = Strategies.Admit(CoreResources.Secrets, Secret("2", "kubernetes.io/ssh-auth"), Secret("1"));
        // (and, as kube, the new type's own needs: an ssh-auth Secret without its key)
        Assert.Equal(["data:FieldValueForbidden", "data[%s][ssh-privatekey]:FieldValueRequired", "type:FieldValueInvalid"], causes.Select(c => $"{c.Field}:{c.Reason}").Order());
    }
}

public sealed class PodConfigValidationTests
{
    private static List<StoreErrorCause> Admit(Action<V1Pod> change)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "a" }] },
        };
        change(pod);
        return Strategies.Admit(CoreResources.Pods, pod);
    }

    [Fact]
    public void A_projected_service_account_token_defaults_to_an_hour_and_is_validated_as_kube_does()
    {
        Assert.Empty(Admit(p => p.Spec.Volumes =
        [
            new V1Volume
            {
                Name = "token",
                Projected = new V1ProjectedVolumeSource { Sources = [new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token" } }] },
            },
        ]));
        var causes = Admit(p => p.Spec.Volumes =
        [
            new V1Volume
            {
                Name = "token",
                Projected = new V1ProjectedVolumeSource
                {
                    Sources = [new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "../token", ExpirationSeconds = 60 } }],
                },
            },
        ]);
        Assert.Contains(causes, c => c.Field == "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds" &&
                                     c.Message == "Invalid value: 60: may not specify a duration less than 10 minutes");
        Assert.Contains(causes, c => c.Field == "spec.volumes[0].projected.sources[0].serviceAccountToken.path");
    }

    [Fact]
    public void Env_value_from_takes_exactly_one_source_and_a_downward_api_field_it_knows()
    {
        var causes = Admit(p => p.Spec.Containers[0].Env =
        [
            new V1EnvVar
            {
                Name = "TWO", ValueFrom = new V1EnvVarSource
                {
                    ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "cm", Key = "k" },
                    SecretKeyRef = new V1SecretKeySelector { Name = "s", Key = "k" },
                },
            },
            new V1EnvVar { Name = "F", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "spec.hostname" } } },
            new V1EnvVar { Name = "R", ValueFrom = new V1EnvVarSource { ResourceFieldRef = new V1ResourceFieldSelector { Resource = "limits.gpu" } } },
        ]);
        Assert.Equal(
        [
            "spec.containers[0].env[0].valueFrom:Invalid value: \"\": may not have more than one field specified at a time",
            "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath:Unsupported value: \"spec.hostname\": supported values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
            "spec.containers[0].env[2].valueFrom.resourceFieldRef.resource:Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\"",
        ], causes.Select(c => $"{c.Field}:{c.Message}"));
    }

    [Fact]
    public void Item_paths_stay_inside_the_volume_and_modes_are_permission_bits()
    {
        var causes = Admit(p => p.Spec.Volumes =
        [
            new V1Volume
            {
                Name = "cm", ConfigMap = new V1ConfigMapVolumeSource
                {
                    Name = "cm", DefaultMode = 0x200,
                    Items = [new V1KeyToPath { Key = "k", Path = "../escape" }, new V1KeyToPath { Key = "k", Path = "/abs" }],
                },
            },
        ]);
        Assert.Equal(
        [
            "spec.volumes[0].configMap.defaultMode:Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive",
            "spec.volumes[0].configMap.items[0].path:Invalid value: \"../escape\": must not contain '..'",
            "spec.volumes[0].configMap.items[0].path:Invalid value: \"../escape\": must not start with '..'",
            "spec.volumes[0].configMap.items[1].path:Invalid value: \"/abs\": must be a relative path",
        ], causes.Select(c => $"{c.Field}:{c.Message}"));
    }

    [Fact]
    public void Volume_modes_and_field_api_versions_are_defaulted()
    {
        V1Pod? seen = null;
        Assert.Empty(Admit(p =>
        {
            p.Spec.Volumes = [new V1Volume { Name = "s", Secret = new V1SecretVolumeSource { SecretName = "s" } }];
            p.Spec.Containers[0].Env = [new V1EnvVar { Name = "N", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } }];
            seen = p;
        }));
        Assert.Equal(420, seen!.Spec.Volumes[0].Secret.DefaultMode);
        Assert.Equal("v1", seen.Spec.Containers[0].Env[0].ValueFrom.FieldRef.ApiVersion);
    }

    [Fact]
    public void A_volume_without_a_source_is_an_empty_dir()
    {
        V1Pod? seen = null;
        Assert.Empty(Admit(p =>
        {
            p.Spec.Volumes = [new V1Volume { Name = "scratch" }];
            seen = p;
        }));
        Assert.NotNull(seen!.Spec.Volumes[0].EmptyDir);
    }
}
