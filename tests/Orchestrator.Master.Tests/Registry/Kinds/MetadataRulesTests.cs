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
}
