using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// kube-controller-manager's csrcleaner: a request is deleted an hour after it was approved, denied or failed (by the
/// condition's lastUpdateTime), a day after its creation while pending, and as soon as its issued certificate has
/// expired. Each request is looked at again when its deadline comes.
/// </summary>
internal sealed class CertificateSigningRequestCleaner : ControllerActor
{
    private const string Resource = CertificateSigningController.Resource;
    public static readonly TimeSpan DecidedExpiration = TimeSpan.FromHours(1);
    public static readonly TimeSpan PendingExpiration = TimeSpan.FromHours(24);

    public CertificateSigningRequestCleaner(IActorRef store, TimeSpan resync) : base(store, [Resource], resync) { }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new CertificateSigningRequestCleaner(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Resource);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (current is not null) Enqueue(ObjectCache.KeyOf(resource, current));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1CertificateSigningRequest csr || csr.Metadata.DeletionTimestamp is not null) return;
        var now = DateTime.UtcNow;
        var deadline = DeadlineOf(csr);
        if (deadline > now)
        {
            // one timer per key, replaced by each reconcile: the deadline can only move with a change, which reconciles
            RequeueAfter(key, deadline - now + TimeSpan.FromSeconds(1));
            return;
        }
        Log.Info("deleting certificate signing request {0}: past its deadline {1:u}", key.Name, deadline);
        SendAndForget(new DeleteObject(key, PreconditionUid: csr.Metadata.Uid));
    }

    /// <summary>When the request is to be deleted: the earliest deadline that applies to it.</summary>
    public static DateTime DeadlineOf(V1CertificateSigningRequest csr)
    {
        var deadlines = new List<DateTime>();
        var decided = (csr.Status?.Conditions ?? []).Where(c => c.Type is "Approved" or "Denied" or "Failed").ToList();
        foreach (var condition in decided)
            deadlines.Add(Utc(condition.LastUpdateTime ?? csr.Metadata.CreationTimestamp ?? DateTime.UtcNow) + DecidedExpiration);
        if (decided.Count == 0) deadlines.Add(Utc(csr.Metadata.CreationTimestamp ?? DateTime.UtcNow) + PendingExpiration);
        if (NotAfterOf(csr.Status?.Certificate) is { } expiry) deadlines.Add(expiry);
        return deadlines.Min();
    }

    private static DateTime? NotAfterOf(byte[]? pem)
    {
        if (pem is not { Length: > 0 }) return null;
        try
        {
            using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(pem));
            return certificate.NotAfter.ToUniversalTime();
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    private static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime();
}
