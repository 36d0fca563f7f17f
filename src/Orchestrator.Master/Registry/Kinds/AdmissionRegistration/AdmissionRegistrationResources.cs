using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.AdmissionRegistration;

/// <summary>The admissionregistration.k8s.io group. ValidatingAdmissionPolicies and their bindings are stored and
/// evaluated (Admission/Policies); webhook configurations are stored and their webhooks called (Api/Webhooks).</summary>
internal static class AdmissionRegistrationResources
{
    public const string Group = "admissionregistration.k8s.io";

    public static readonly ResourceDescription ValidatingAdmissionPolicies = new()
    {
        Group = Group, Version = "v1", Resource = "validatingadmissionpolicies", Kind = "ValidatingAdmissionPolicy",
        Namespaced = false, ObjectType = typeof(V1ValidatingAdmissionPolicy), Categories = ["api-extensions"],
        Strategy = new ValidatingAdmissionPolicyStrategy(),
        Printer = new ValidatingAdmissionPolicyTablePrinter(), Subresources = [SubresourceDescription.Status("ValidatingAdmissionPolicy")],
        ProtobufMessage = "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicy",
    };

    public static readonly ResourceDescription ValidatingAdmissionPolicyBindings = new()
    {
        Group = Group, Version = "v1", Resource = "validatingadmissionpolicybindings", Kind = "ValidatingAdmissionPolicyBinding",
        Namespaced = false, ObjectType = typeof(V1ValidatingAdmissionPolicyBinding), Categories = ["api-extensions"],
        Strategy = new ValidatingAdmissionPolicyBindingStrategy(),
        Printer = new ValidatingAdmissionPolicyBindingTablePrinter(),
        ProtobufMessage = "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding",
    };

    public static readonly ResourceDescription ValidatingWebhookConfigurations = new()
    {
        Group = Group, Version = "v1", Resource = "validatingwebhookconfigurations", Kind = "ValidatingWebhookConfiguration",
        Namespaced = false, ObjectType = typeof(V1ValidatingWebhookConfiguration), Categories = ["api-extensions"],
        Strategy = WebhookConfigurations.Validating(),
        Printer = new WebhookConfigurationTablePrinter<V1ValidatingWebhookConfiguration>(w => w.Webhooks?.Count ?? 0),
        ProtobufMessage = "k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration",
    };

    public static readonly ResourceDescription MutatingWebhookConfigurations = new()
    {
        Group = Group, Version = "v1", Resource = "mutatingwebhookconfigurations", Kind = "MutatingWebhookConfiguration",
        Namespaced = false, ObjectType = typeof(V1MutatingWebhookConfiguration), Categories = ["api-extensions"],
        Strategy = WebhookConfigurations.Mutating(),
        Printer = new WebhookConfigurationTablePrinter<V1MutatingWebhookConfiguration>(w => w.Webhooks?.Count ?? 0),
        ProtobufMessage = "k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration",
    };

    public static IReadOnlyList<ResourceDescription> All =>
    [
        MutatingWebhookConfigurations, ValidatingAdmissionPolicies, ValidatingAdmissionPolicyBindings, ValidatingWebhookConfigurations,
    ];
}

/// <summary>NAME WEBHOOKS AGE.</summary>
internal sealed class WebhookConfigurationTablePrinter<T>(Func<T, int> count) : TablePrinter<T>
    where T : IKubernetesObject<V1ObjectMeta>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(T obj, DateTime now) => [obj.Metadata.Name, (long)count(obj), Age(obj, now)];
}

/// <summary>NAME VALIDATIONS PARAMKIND AGE.</summary>
internal sealed class ValidatingAdmissionPolicyTablePrinter : TablePrinter<V1ValidatingAdmissionPolicy>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Validations", "Validations indicates the number of validation rules defined in this configuration"),
        TableColumnDefinition.Text("ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1ValidatingAdmissionPolicy p, DateTime now) =>
    [
        p.Metadata.Name, (long)(p.Spec?.Validations?.Count ?? 0),
        p.Spec?.ParamKind is { } kind ? $"{kind.ApiVersion}/{kind.Kind}" : "<unset>", Age(p, now),
    ];
}

/// <summary>NAME POLICYNAME PARAMREF AGE.</summary>
internal sealed class ValidatingAdmissionPolicyBindingTablePrinter : TablePrinter<V1ValidatingAdmissionPolicyBinding>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("PolicyName", "PolicyName indicates the policy definition which the policy binding binded to"),
        TableColumnDefinition.Text("ParamRef", "ParamRef indicates the param resource which sets the configration param"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1ValidatingAdmissionPolicyBinding b, DateTime now)
    {
        var param = "<unset>";
        if (b.Spec?.ParamRef is { } r)
        {
            if (!string.IsNullOrEmpty(r.Name)) param = string.IsNullOrEmpty(r.NamespaceProperty) ? "*/" + r.Name : $"{r.NamespaceProperty}/{r.Name}";
            else if (r.Selector is not null) param = SelectorText.Format(r.Selector);
        }
        return [b.Metadata.Name, b.Spec?.PolicyName ?? "", param, Age(b, now)];
    }
}
