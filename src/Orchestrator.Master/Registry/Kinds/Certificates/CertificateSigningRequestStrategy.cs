using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Certificates;

/// <summary>
/// certificates/v1 CertificateSigningRequest (pkg/registry/certificates/certificates/strategy.go): the spec is fixed at
/// create, status is cleared then; an update of the main resource changes only metadata; /approval changes only the
/// conditions; /status changes the conditions except Approved/Denied, and sets the certificate once. The requestor
/// (spec.username, uid, groups, extra) is the API layer's to fill from the authenticated user.
/// </summary>
internal sealed class CertificateSigningRequestStrategy : ModelStrategy<V1CertificateSigningRequest>
{
    public CertificateSigningRequestStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    public const string Approved = "Approved";
    public const string Denied = "Denied";
    public const string Failed = "Failed";

    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override bool ValidatesStatusUpdates => true;

    protected override void PrepareForCreate(V1CertificateSigningRequest csr) => csr.Status = null;

    protected override void PrepareForUpdate(V1CertificateSigningRequest csr, V1CertificateSigningRequest old) => csr.Spec = old.Spec;

    protected override V1CertificateSigningRequest? PrepareForSubresourceUpdate(string subresource, V1CertificateSigningRequest csr,
        V1CertificateSigningRequest old)
    {
        if (subresource != "approval") return null;
        var previous = old.Status?.Conditions?.ToList() ?? [];
        old.Status ??= new V1CertificateSigningRequestStatus();
        old.Status.Conditions = csr.Status?.Conditions;
        PopulateConditionTimestamps(old, previous, DateTime.UtcNow);
        return old;
    }

    protected override V1CertificateSigningRequest PrepareForStatusUpdate(V1CertificateSigningRequest csr, V1CertificateSigningRequest old)
    {
        var conditions = (csr.Status?.Conditions ?? []).Where(c => c.Type is not (Approved or Denied)).ToList();
        var preserved = (old.Status?.Conditions ?? []).Where(c => c.Type is Approved or Denied).ToList();
        var oldConditions = old.Status?.Conditions?.ToList() ?? [];
        old.Status = csr.Status ?? new V1CertificateSigningRequestStatus();
        old.Status.Conditions = [.. preserved, .. conditions];
        PopulateConditionTimestamps(old, oldConditions, DateTime.UtcNow);
        return old;
    }

    /// <summary>populateConditionTimestamps: a condition without lastUpdateTime gets now; without lastTransitionTime,
    /// the old one of its type when the status is unchanged, else now.</summary>
    private static void PopulateConditionTimestamps(V1CertificateSigningRequest csr, IList<V1CertificateSigningRequestCondition> old, DateTime now)
    {
        var seconds = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        foreach (var condition in csr.Status?.Conditions ?? [])
        {
            condition.LastUpdateTime ??= seconds;
            if (condition.LastTransitionTime is not null) continue;
            var previous = old.FirstOrDefault(c => c.Type == condition.Type);
            condition.LastTransitionTime = previous is not null && previous.Status == condition.Status && previous.LastTransitionTime is { } t
                ? t : seconds;
        }
    }

    protected override void Validate(V1CertificateSigningRequest csr, IAdmissionContext context, List<StoreErrorCause> causes) =>
        CertificateSigningRequestRules.Validate(csr, causes);

    protected override void ValidateUpdate(V1CertificateSigningRequest csr, V1CertificateSigningRequest old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        CertificateSigningRequestRules.Validate(csr, causes);
        CertificateSigningRequestRules.ValidateUpdate(csr, old, causes);
    }
}
