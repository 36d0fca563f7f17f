using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Rbac;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Aggregation;

/// <summary>
/// kube-apiserver's ClusterAuthenticationTrustController: keeps kube-system/extension-apiserver-authentication, which
/// extension API servers read to trust this server — the cluster CA (<c>client-ca-file</c>), the front-proxy CA and
/// the requestheader scheme (names allowed to present it, the X-Remote-* headers). CA bundles are merged with what
/// is there (another master's CA stays trusted). Also the bootstrap policy's Role
/// <c>extension-apiserver-authentication-reader</c> and its RoleBinding, created when missing. Checked at start and
/// every minute (and every second while kube-system does not exist yet).
/// </summary>
internal sealed class ExtensionApiserverAuthentication(ObjectStoreClient store, FrontProxyIdentity identity,
    ILogger<ExtensionApiserverAuthentication> log) : BackgroundService
{
    public const string Namespace = "kube-system";
    public const string Name = "extension-apiserver-authentication";
    public const string ReaderRole = "extension-apiserver-authentication-reader";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = TimeSpan.FromMinutes(1);
            try
            {
                if (!await EnsureAsync(stoppingToken)) wait = TimeSpan.FromSeconds(1);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogDebug(e, "Keeping {Namespace}/{Name} failed; trying again", Namespace, Name);
                wait = TimeSpan.FromSeconds(1);
            }
            try { await Task.Delay(wait, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One round; false when something could not be written yet.</summary>
    internal async Task<bool> EnsureAsync(CancellationToken ct)
    {
        var done = await EnsureConfigMapAsync(ct);
        done &= await CreateIfMissingAsync(RbacResources.Roles, ReaderRoleObject(), ct);
        done &= await CreateIfMissingAsync(RbacResources.RoleBindings, ReaderBinding(), ct);
        return done;
    }

    private async Task<bool> EnsureConfigMapAsync(CancellationToken ct)
    {
        V1ConfigMap? existing = null;
        try
        {
            existing = (V1ConfigMap)await store.GetAsync(CoreResources.ConfigMaps, Namespace, Name, ct);
        }
        catch (Http.ApiException e) when (e.Code == 404)
        {
        }
        var data = Data(existing?.Data);
        if (existing is not null && existing.Data is { } current && data.All(kv => current.TryGetValue(kv.Key, out var v) && v == kv.Value) &&
            current.Count == data.Count)
            return true;
        object message;
        if (existing is null)
            message = new CreateObject("configmaps", new V1ConfigMap
            {
                ApiVersion = "v1", Kind = "ConfigMap", Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace }, Data = data,
            });
        else
        {
            var updated = KubeObjects.Clone(existing);
            updated.Data = data;
            message = new UpdateObject("configmaps", updated);
        }
        return await store.AskAsync(message, ct, CoreResources.ConfigMaps) is ObjectStored;
    }

    /// <summary>The ConfigMap's data: kube's keys, the CA bundles merged with <paramref name="existing"/>'s.</summary>
    internal Dictionary<string, string> Data(IDictionary<string, string>? existing) => new()
    {
        ["client-ca-file"] = Merge(Value(existing, "client-ca-file"), identity.ClientCaPem),
        ["requestheader-client-ca-file"] = Merge(Value(existing, "requestheader-client-ca-file"), identity.FrontProxyCaPem),
        ["requestheader-allowed-names"] = JsonSerializer.Serialize(new[] { FrontProxyCertificates.ClientName }),
        ["requestheader-username-headers"] = JsonSerializer.Serialize(new[] { "X-Remote-User" }),
        ["requestheader-group-headers"] = JsonSerializer.Serialize(new[] { "X-Remote-Group" }),
        ["requestheader-extra-headers-prefix"] = JsonSerializer.Serialize(new[] { "X-Remote-Extra-" }),
    };

    private static string? Value(IDictionary<string, string>? data, string key) =>
        data is not null && data.TryGetValue(key, out var value) ? value : null;

    /// <summary>Our CA first, then the other certificates already in the bundle (kube's combineCertLists), once each.</summary>
    private static string Merge(string? existing, string ours)
    {
        var result = new List<X509Certificate2>();
        foreach (var pem in new[] { ours, existing ?? "" })
        {
            var collection = new X509Certificate2Collection();
            try { collection.ImportFromPem(pem); }
            catch (System.Security.Cryptography.CryptographicException) { continue; }
            foreach (var cert in collection)
                if (!result.Any(c => c.RawData.AsSpan().SequenceEqual(cert.RawData))) result.Add(cert);
        }
        return string.Concat(result.Select(c => c.ExportCertificatePem() + "\n"));
    }

    private async Task<bool> CreateIfMissingAsync(Registry.Catalog.ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, CancellationToken ct)
    {
        try
        {
            await store.GetAsync(resource, Namespace, obj.Metadata.Name, ct);
            return true;
        }
        catch (Http.ApiException e) when (e.Code == 404)
        {
        }
        return await store.AskAsync(new CreateObject(resource.Resource, obj), ct, resource) is ObjectStored or StoreFailed { Error.Code: 409 };
    }

    private static V1ObjectMeta Meta(string name) => new()
    {
        Name = name, NamespaceProperty = Namespace,
        Labels = new Dictionary<string, string> { ["kubernetes.io/bootstrapping"] = "rbac-defaults" },
        Annotations = new Dictionary<string, string> { ["rbac.authorization.kubernetes.io/autoupdate"] = "true" },
    };

    /// <summary>kube's bootstrap Role: reading this one ConfigMap.</summary>
    internal static V1Role ReaderRoleObject() => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "Role", Metadata = Meta(ReaderRole),
        Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = [Name], Verbs = ["get", "list", "watch"] }],
    };

    /// <summary>kube's bootstrap RoleBinding system::extension-apiserver-authentication-reader (the controller manager and
    /// the scheduler; extension servers bind their own ServiceAccounts to the Role).</summary>
    internal static V1RoleBinding ReaderBinding() => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "RoleBinding", Metadata = Meta("system::" + ReaderRole),
        RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = ReaderRole },
        Subjects =
        [
            new Rbacv1Subject { ApiGroup = "rbac.authorization.k8s.io", Kind = "User", Name = "system:kube-controller-manager" },
            new Rbacv1Subject { ApiGroup = "rbac.authorization.k8s.io", Kind = "User", Name = "system:kube-scheduler" },
        ],
    };
}
