using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class MetadataRulesTests
{
    [Fact]
    public void An_invalid_deployment_name_gets_the_api_servers_message()
    {
        var causes = Strategies.Admit(AppsResources.Deployments, Objects.Deployment("Bad_Name"));
        var error = StoreErrors.Invalid(AppsResources.Deployments, "Bad_Name", causes);

        Assert.Equal(422, error.Code);
        Assert.Equal("Invalid", error.Reason);
        Assert.Equal("Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 " +
                     "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an " +
                     "alphanumeric character (e.g. 'example.com', regex used for validation is " +
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')", error.Message);
        var cause = Assert.Single(error.Causes!);
        Assert.Equal("metadata.name", cause.Field);
        Assert.Equal("FieldValueInvalid", cause.Reason);
    }

    [Fact]
    public void Namespace_names_are_rfc_1123_labels()
    {
        var causes = Strategies.Admit(CoreResources.Namespaces, Objects.Namespace("a.b"));
        Assert.Contains("a lowercase RFC 1123 label must consist of", Assert.Single(causes).Message);
    }

    [Fact]
    public void Service_names_are_dns_1035_labels()
    {
        var causes = Strategies.Admit(CoreResources.Services, Objects.Service("1svc"));
        Assert.Contains("a DNS-1035 label must consist of", Assert.Single(causes).Message);
    }

    [Fact]
    public void A_name_longer_than_253_characters_is_invalid()
    {
        var name = new string('a', 254);
        var causes = Strategies.Admit(CoreResources.Pods, Objects.Pod(name));
        Assert.Equal("Invalid value: \"" + name + "\": must be no more than 253 characters", Assert.Single(causes).Message);
    }

    [Fact]
    public void Several_causes_are_listed_in_brackets()
    {
        var error = StoreErrors.Invalid(CoreResources.Pods, "p",
            [FieldErrors.Required("spec.containers[0].name"), FieldErrors.Required("spec.containers[0].image")]);
        Assert.Equal("Pod \"p\" is invalid: [spec.containers[0].name: Required value, spec.containers[0].image: Required value]",
            error.Message);
    }

    [Fact]
    public void A_negative_generation_is_refused_on_create()
    {
        var configMap = Objects.ConfigMap("c");
        configMap.Metadata.Generation = -1;
        Assert.Equal("Invalid value: -1: must be greater than or equal to 0", Assert.Single(Strategies.Admit(CoreResources.ConfigMaps, configMap)).Message);
    }

    [Fact]
    public void Owner_references_name_a_version_kind_name_and_uid_and_one_controller_at_most()
    {
        var configMap = Objects.ConfigMap("c");
        configMap.Metadata.OwnerReferences =
        [
            new V1OwnerReference { ApiVersion = "apps/", Kind = "", Name = "", Uid = "" },
            new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = "a", Uid = "1", Controller = true },
            new V1OwnerReference { ApiVersion = "v1", Kind = "Event", Name = "e", Uid = "2", Controller = true },
        ];
        var causes = Strategies.Admit(CoreResources.ConfigMaps, configMap);
        Assert.Equal(
        [
            "metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty",
            "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty",
            "metadata.ownerReferences.name: Invalid value: \"\": must not be empty",
            "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty",
            "metadata.ownerReferences: Invalid value: v1.OwnerReference{APIVersion:\"v1\", Kind:\"Event\", Name:\"e\", UID:\"2\", " +
            "Controller:(*bool)(true), BlockOwnerDeletion:(*bool)(nil)}: /v1, Kind=Event is disallowed from being an owner",
        ], causes.Take(5).Select(c => $"{c.Field}: {c.Message}"));
        Assert.EndsWith("Only one reference can have Controller set to true. Found \"true\" in references for Pod/a and Event/e", causes[5].Message);
        Assert.Equal(6, causes.Count);
    }

    [Fact]
    public void Finalizers_are_qualified_names_and_not_both_orphan_and_foreground()
    {
        var configMap = Objects.ConfigMap("c");
        configMap.Metadata.Finalizers = ["example.com/ok", "Bad Name", "orphan", "foregroundDeletion"];
        var causes = Strategies.Admit(CoreResources.ConfigMaps, configMap);
        Assert.Equal(2, causes.Count);
        Assert.StartsWith("Invalid value: \"Bad Name\": name part must consist of", causes[0].Message);
        Assert.Equal("Invalid value: []string{\"example.com/ok\", \"Bad Name\", \"orphan\", \"foregroundDeletion\"}: " +
                     "finalizer orphan and foregroundDeletion cannot be both set", causes[1].Message);
    }

    [Fact]
    public void No_finalizer_is_added_to_an_object_being_deleted()
    {
        var old = Objects.ConfigMap("c");
        old.Metadata.DeletionTimestamp = DateTime.UtcNow;
        old.Metadata.Finalizers = ["example.com/a"];
        var updated = Objects.ConfigMap("c");
        updated.Metadata.DeletionTimestamp = old.Metadata.DeletionTimestamp;
        updated.Metadata.Finalizers = ["example.com/a", "example.com/c", "example.com/b"];
        Assert.Equal("Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers " +
                     "[]string{\"example.com/b\", \"example.com/c\"}", Assert.Single(Strategies.Admit(CoreResources.ConfigMaps, updated, old)).Message);
        updated.Metadata.Finalizers = [];
        Assert.Empty(Strategies.Admit(CoreResources.ConfigMaps, updated, old));
    }

    [Fact]
    public void A_generate_name_prefix_follows_the_names_rule_a_trailing_dash_allowed()
    {
        var configMap = Objects.ConfigMap("bad_x1234");
        configMap.Metadata.GenerateName = "bad_";
        var causes = Strategies.Admit(CoreResources.ConfigMaps, configMap);
        Assert.Equal(["metadata.generateName", "metadata.name"], causes.Select(c => c.Field));
        Assert.StartsWith("Invalid value: \"bad_\": a lowercase RFC 1123 subdomain", causes[0].Message);
        configMap = Objects.ConfigMap("web-x1234");
        configMap.Metadata.GenerateName = "web-";
        Assert.Empty(Strategies.Admit(CoreResources.ConfigMaps, configMap));
        configMap.Metadata.GenerateName = new string('a', 254);
        Assert.Equal("Invalid value: \"" + configMap.Metadata.GenerateName + "\": must be no more than 253 characters",
            Assert.Single(Strategies.Admit(CoreResources.ConfigMaps, configMap)).Message);
    }
}
