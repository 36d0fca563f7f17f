using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Controllers.Certificates;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// kube-controller-manager's csrsigning controller for the client signers (<see cref="KubernetesSigners"/>): an
/// approved, not denied, not failed request without a certificate gets one through /status, or a Failed condition
/// (reason SignerValidationFailure) when its signer refuses it. Requests for other signers stay pending, as in
/// Kubernetes. It never approves anything.
/// </summary>
internal sealed class CertificateSigningController : ControllerActor
{
    public const string Resource = "certificatesigningrequests";
    private readonly CertificateSigningSettings _settings;

    public CertificateSigningController(IActorRef store, CertificateSigningSettings settings, TimeSpan resync) : base(store, [Resource], resync) =>
        _settings = settings;

    public static Props Props(IActorRef store, CertificateSigningSettings settings, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new CertificateSigningController(store, settings, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Resource);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (current is not null) Enqueue(ObjectCache.KeyOf(resource, current));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1CertificateSigningRequest csr || !AwaitsCertificate(csr)) return;
        if (KubernetesSigners.Sign(csr, _settings, DateTime.UtcNow) is not { } outcome) return;
        var updated = (V1CertificateSigningRequest)KubeObjects.CloneObject(csr);
        updated.Status ??= new V1CertificateSigningRequestStatus();
        switch (outcome)
        {
            case SigningOutcome.Issued issued:
                updated.Status.Certificate = issued.Certificate;
                Log.Info("issued a certificate for {0} ({1})", key.Name, csr.Spec.SignerName);
                break;
            case SigningOutcome.Refused refused:
                var now = DateTime.UtcNow;
                updated.Status.Conditions = [.. updated.Status.Conditions ?? [], new V1CertificateSigningRequestCondition
                {
                    Type = "Failed", Status = "True", Reason = "SignerValidationFailure", Message = refused.Message,
                    LastUpdateTime = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc),
                }];
                Log.Info("signer {0} refused {1}: {2}", csr.Spec.SignerName, key.Name, refused.Message);
                break;
        }
        Send(new UpdateObject(Resource, updated, "status"), key);
    }

    /// <summary>Approved, neither denied nor failed, and not yet issued.</summary>
    public static bool AwaitsCertificate(V1CertificateSigningRequest csr)
    {
        var conditions = csr.Status?.Conditions ?? [];
        return conditions.Any(c => c.Type == "Approved" && c.Status == "True") &&
               !conditions.Any(c => c.Type is "Denied" or "Failed" && c.Status == "True") &&
               csr.Status?.Certificate is not { Length: > 0 };
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // a conflict: the feed brings the newer request, which is reconciled again; anything else is retried
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code is not (409 or 404))
            RequeueAfter(key, TimeSpan.FromSeconds(5));
        base.OnStoreReplied(reply);
    }
}
