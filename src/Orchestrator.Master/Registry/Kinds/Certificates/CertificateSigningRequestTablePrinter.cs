using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Certificates;

/// <summary>NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION, as kube's printer writes them.</summary>
internal sealed class CertificateSigningRequestTablePrinter : TablePrinter<V1CertificateSigningRequest>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("SignerName", "Only include signerName"),
        TableColumnDefinition.Text("Requestor", "Name of the user who created the request"),
        TableColumnDefinition.Text("RequestedDuration", "Requested duration of the certificate"),
        TableColumnDefinition.Text("Condition", "The current state of the request"),
    ];

    protected override IReadOnlyList<object> Cells(V1CertificateSigningRequest csr, DateTime now) =>
    [
        csr.Metadata.Name, Age(csr, now),
        csr.Spec?.SignerName is { Length: > 0 } signer ? signer : "<none>",
        csr.Spec?.Username ?? "",
        csr.Spec?.ExpirationSeconds is { } seconds ? HumanDuration.Format(TimeSpan.FromSeconds(seconds)) : "<none>",
        Condition(csr),
    ];

    /// <summary>Denied wins over Approved, else Pending; then ",Failed" and ",Issued".</summary>
    public static string Condition(V1CertificateSigningRequest csr)
    {
        var types = (csr.Status?.Conditions ?? []).Select(c => c.Type).ToHashSet();
        var text = types.Contains("Denied") ? "Denied" : types.Contains("Approved") ? "Approved" : "Pending";
        if (types.Contains("Failed")) text += ",Failed";
        if (csr.Status?.Certificate is { Length: > 0 }) text += ",Issued";
        return text;
    }
}
