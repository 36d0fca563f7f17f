using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Core;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class ServiceAccountStrategyTests
{
    private static V1ServiceAccount Account(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Secrets = [new V1ObjectReference { Name = "token", Kind = "Secret", NamespaceProperty = "other", Uid = "u" }],
    };

    [Fact]
    public void Secret_references_keep_only_their_name_on_create_and_update()
    {
        var created = Account("builder");
        Assert.Empty(Strategies.Admit(CoreResources.ServiceAccounts, created));
        var secret = Assert.Single(created.Secrets);
        Assert.Equal(("token", null, null, null), (secret.Name, secret.Kind, secret.NamespaceProperty, secret.Uid));

        var updated = Account("builder");
        CoreResources.ServiceAccounts.Strategy.PrepareForUpdate(updated, created);
        Assert.Null(Assert.Single(updated.Secrets).Kind);
    }

    [Fact]
    public void Names_are_dns_subdomains()
    {
        var causes = Strategies.Admit(CoreResources.ServiceAccounts, Account("Not_Valid"));
        Assert.Equal("metadata.name", Assert.Single(causes).Field);
        Assert.Empty(Strategies.Admit(CoreResources.ServiceAccounts, Account("ci.builder")));
    }
}
