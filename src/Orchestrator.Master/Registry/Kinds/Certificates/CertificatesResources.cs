using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Certificates;

/// <summary>The certificates.k8s.io group: CertificateSigningRequests with their /approval and /status subresources.
/// Who may approve or sign for a signer is the API layer's check; signing is the signer controller's.</summary>
internal static class CertificatesResources
{
    public const string Group = "certificates.k8s.io";

    public static readonly ResourceDescription CertificateSigningRequests = new()
    {
        Group = Group, Version = "v1", Resource = "certificatesigningrequests", Kind = "CertificateSigningRequest",
        Namespaced = false, ObjectType = typeof(V1CertificateSigningRequest), Strategy = new CertificateSigningRequestStrategy(),
        Printer = new CertificateSigningRequestTablePrinter(), ShortNames = ["csr"],
        Subresources =
        [
            new SubresourceDescription("approval", null, null, "CertificateSigningRequest", ["get", "patch", "update"]),
            SubresourceDescription.Status("CertificateSigningRequest"),
        ],
        SelectableFields = ["spec.signerName"],
        ProtobufMessage = "k8s.io.api.certificates.v1.CertificateSigningRequest",
    };

    public static IReadOnlyList<ResourceDescription> All => [CertificateSigningRequests];
}
