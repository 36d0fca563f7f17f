using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 ServiceAccount, as the API server's strategy: secret references keep only their name (on create
/// and update); names are DNS-1123 subdomains, and nothing else is validated.</summary>
internal sealed class ServiceAccountStrategy : ModelStrategy<V1ServiceAccount>
{
    protected override void PrepareForCreate(V1ServiceAccount sa) => CleanSecretReferences(sa);

    protected override void PrepareForUpdate(V1ServiceAccount sa, V1ServiceAccount old) => CleanSecretReferences(sa);

    private static void CleanSecretReferences(V1ServiceAccount sa)
    {
        if (sa.Secrets is null) return;
        sa.Secrets = sa.Secrets.Select(s => new V1ObjectReference { Name = s?.Name }).ToList();
    }
}
