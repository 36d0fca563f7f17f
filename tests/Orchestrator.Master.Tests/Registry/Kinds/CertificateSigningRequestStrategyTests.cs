using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Certificates;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class CertificateSigningRequestStrategyTests
{
    private static readonly IResourceStrategyView Strategy = new(CertificatesResources.CertificateSigningRequests.Strategy);

    internal static byte[] RequestPem(string subject, Action<CertificateRequest>? configure = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        configure?.Invoke(request);
        return Encoding.ASCII.GetBytes(request.CreateSigningRequestPem());
    }

    internal static V1CertificateSigningRequest Csr(string name = "jane", string signer = "kubernetes.io/kube-apiserver-client",
        IList<string>? usages = null, byte[]? request = null) => new()
    {
        ApiVersion = "certificates.k8s.io/v1", Kind = "CertificateSigningRequest",
        Metadata = new V1ObjectMeta { Name = name, Uid = "u1", ResourceVersion = "1" },
        Spec = new V1CertificateSigningRequestSpec
        {
            Request = request ?? RequestPem("CN=jane, O=devs"), SignerName = signer, Usages = usages ?? ["client auth"],
        },
    };

    private static V1CertificateSigningRequestCondition Condition(string type) => new() { Type = type, Status = "True" };

    private static List<Orchestrator.Master.Store.StoreErrorCause> Admit(V1CertificateSigningRequest csr, V1CertificateSigningRequest? old = null) =>
        Strategies.Admit(CertificatesResources.CertificateSigningRequests, csr, old);

    [Fact]
    public void A_signed_pem_request_with_a_signer_and_usages_is_accepted_and_its_status_cleared()
    {
        var csr = Csr();
        csr.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Approved")] };

        Assert.Empty(Admit(csr));
        Assert.Null(csr.Status);
    }

    [Fact]
    public void A_request_that_is_not_a_pem_certificate_request_is_invalid()
    {
        var cause = Assert.Single(Admit(Csr(request: "hello"u8.ToArray())));

        Assert.Equal("spec.request", cause.Field);
        Assert.Equal("Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST", cause.Message);
    }

    [Fact]
    public void A_request_whose_signature_does_not_verify_is_invalid()
    {
        var pem = Encoding.ASCII.GetString(RequestPem("CN=jane"));
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----"))));
        der[^3] ^= 0x55; // inside the signature
        var tampered = Encoding.ASCII.GetBytes(PemEncoding.WriteString("CERTIFICATE REQUEST", der));

        var cause = Assert.Single(Admit(Csr(request: tampered)));

        Assert.Equal("spec.request", cause.Field);
        Assert.EndsWith(": x509: ECDSA verification failure", cause.Message);
    }

    [Fact]
    public void Usages_are_required_known_and_unique()
    {
        Assert.Equal("Required value: usages must be provided", Assert.Single(Admit(Csr(usages: []))).Message);
        var unknown = Assert.Single(Admit(Csr(usages: ["client auth", "flying"])));
        Assert.Equal("spec.usages[1]", unknown.Field);
        Assert.StartsWith("Unsupported value: \"flying\": supported values: \"any\", \"cert sign\", \"client auth\"", unknown.Message);
        var duplicate = Assert.Single(Admit(Csr(usages: ["client auth", "client auth"])));
        Assert.Equal(("spec.usages[1]", "Duplicate value: \"client auth\""), (duplicate.Field, duplicate.Message));
    }

    [Fact]
    public void The_signer_name_is_required_and_a_domain_with_a_path()
    {
        Assert.Equal("Required value: signerName must be provided", Assert.Single(Admit(Csr(signer: ""))).Message);
        Assert.Equal("Invalid value: \"example\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
            Assert.Single(Admit(Csr(signer: "example"))).Message);
        Assert.Equal("Invalid value: \"example\": should be a domain with at least two segments separated by dots",
            Assert.Single(Admit(Csr(signer: "example/signer"))).Message);
        Assert.Equal("Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version",
            Assert.Single(Admit(Csr(signer: "kubernetes.io/legacy-unknown"))).Message);
        Assert.Empty(Admit(Csr(signer: "example.com/my-signer")));
    }

    [Fact]
    public void The_expiration_is_at_least_ten_minutes()
    {
        var csr = Csr();
        csr.Spec.ExpirationSeconds = 599;
        var cause = Assert.Single(Admit(csr));
        Assert.Equal(("spec.expirationSeconds", "Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)"),
            (cause.Field, cause.Message));
        csr.Spec.ExpirationSeconds = 600;
        Assert.Empty(Admit(csr));
    }

    [Fact]
    public void An_update_of_the_main_resource_keeps_the_stored_spec_and_status()
    {
        var old = Csr();
        old.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Approved")] };
        var update = Csr(signer: "example.com/other");
        update.Metadata.Labels = new Dictionary<string, string> { ["a"] = "b" };

        Strategy.PrepareForUpdate(update, old);

        Assert.Equal("kubernetes.io/kube-apiserver-client", update.Spec.SignerName);
        Assert.Equal("Approved", Assert.Single(update.Status.Conditions).Type);
        Assert.Empty(Admit(update, old));
    }

    [Fact]
    public void Approval_sets_the_conditions_with_timestamps_and_nothing_else()
    {
        var old = Csr();
        var body = Csr(signer: "example.com/other");
        body.Status = new V1CertificateSigningRequestStatus
        {
            Conditions = [new V1CertificateSigningRequestCondition { Type = "Approved", Status = "True", Reason = "KubectlApprove" }],
            Certificate = "not mine to set"u8.ToArray(),
        };

        var approved = (V1CertificateSigningRequest)Strategy.PrepareForSubresourceUpdate("approval", body, old)!;

        Assert.Equal("kubernetes.io/kube-apiserver-client", approved.Spec.SignerName);
        Assert.Null(approved.Status.Certificate);
        var condition = Assert.Single(approved.Status.Conditions);
        Assert.NotNull(condition.LastUpdateTime);
        Assert.NotNull(condition.LastTransitionTime);
        Assert.Empty(Admit(approved, Csr()));
    }

    [Fact]
    public void Approved_and_denied_are_mutually_exclusive()
    {
        var csr = Csr();
        var both = (V1CertificateSigningRequest)Strategy.PrepareForSubresourceUpdate("approval",
            new V1CertificateSigningRequest { Metadata = csr.Metadata, Status = new() { Conditions = [Condition("Approved"), Condition("Denied")] } },
            csr)!;

        var cause = Assert.Single(Admit(both, Csr()));

        Assert.Equal(("status.conditions[1].type", "Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"),
            (cause.Field, cause.Message));
    }

    [Fact]
    public void An_approval_may_not_be_removed()
    {
        var old = Csr();
        old.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Approved")] };
        var removed = (V1CertificateSigningRequest)Strategy.PrepareForSubresourceUpdate("approval",
            new V1CertificateSigningRequest { Metadata = old.Metadata, Status = new() }, Csr())!;

        var cause = Assert.Single(Admit(removed, old));

        Assert.Equal("Forbidden: updates may not remove a condition of type \"Approved\"", cause.Message);
    }

    [Fact]
    public void Status_keeps_the_approval_conditions_and_sets_the_certificate_once()
    {
        var old = Csr();
        old.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Approved")] };
        var certificate = Encoding.ASCII.GetBytes(SelfSigned().ExportCertificatePem());
        var body = Csr();
        body.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Denied")], Certificate = certificate };

        var issued = (V1CertificateSigningRequest)Strategy.PrepareForSubresourceUpdate("status", body, Clone(old))!;

        Assert.Equal(["Approved"], issued.Status.Conditions.Select(c => c.Type));
        Assert.Equal(certificate, issued.Status.Certificate);
        Assert.True(CertificatesResources.CertificateSigningRequests.Strategy.ValidatesStatusUpdates);
        Assert.Empty(Admit(issued, old));

        var again = Clone(issued);
        again.Status.Certificate = Encoding.ASCII.GetBytes(SelfSigned().ExportCertificatePem());
        Assert.Contains(Admit(again, issued), c => c.Message == "Forbidden: updates may not modify existing certificate content");

        var garbage = Clone(old);
        garbage.Status.Certificate = "junk"u8.ToArray();
        var cause = Assert.Single(Admit(garbage, old));
        Assert.Equal(("status.certificate", "Invalid value: \"<certificate data>\": must contain at least one CERTIFICATE PEM block"),
            (cause.Field, cause.Message));
    }

    [Fact]
    public void The_table_prints_requestor_duration_and_condition_as_kubectl_shows_them()
    {
        var csr = Csr();
        csr.Metadata.CreationTimestamp = DateTime.UtcNow;
        csr.Spec.Username = "admin";
        csr.Spec.ExpirationSeconds = 86400;
        csr.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Approved")], Certificate = [1] };

        var cells = CertificatesResources.CertificateSigningRequests.Printer.Cells(csr, DateTime.UtcNow);

        Assert.Equal(["Name", "Age", "SignerName", "Requestor", "RequestedDuration", "Condition"],
            CertificatesResources.CertificateSigningRequests.Printer.Columns.Select(c => c.Name));
        Assert.Equal(["jane", "0s", "kubernetes.io/kube-apiserver-client", "admin", "24h", "Approved,Issued"], cells);
        csr.Status = new V1CertificateSigningRequestStatus { Conditions = [Condition("Denied"), Condition("Failed")] };
        Assert.Equal("Denied,Failed", CertificateSigningRequestTablePrinter.Condition(csr));
        Assert.Equal("Pending", CertificateSigningRequestTablePrinter.Condition(Csr()));
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
    }

    private static V1CertificateSigningRequest Clone(V1CertificateSigningRequest csr) =>
        (V1CertificateSigningRequest)Orchestrator.Shared.Api.KubeObjects.CloneObject(csr);

    /// <summary>The strategy's store-facing hooks, as the write planner calls them.</summary>
    private sealed class IResourceStrategyView(Orchestrator.Master.Store.IResourceStrategy strategy)
    {
        public void PrepareForUpdate(V1CertificateSigningRequest obj, V1CertificateSigningRequest old) => strategy.PrepareForUpdate(obj, old);

        public object? PrepareForSubresourceUpdate(string subresource, V1CertificateSigningRequest obj, V1CertificateSigningRequest old) =>
            strategy.PrepareForSubresourceUpdate(subresource, obj, old);
    }
}
