using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.ApiRegistration;

/// <summary>The apiregistration.k8s.io group: APIServices are stored and validated as kube-aggregator does. A local
/// APIService (no service) is Available, as in Kubernetes; the Available condition of one backed by a Service is the
/// aggregator's availability check's (Api/Aggregation).</summary>
internal static class ApiRegistrationResources
{
    public static readonly ResourceDescription ApiServices = new()
    {
        Group = "apiregistration.k8s.io", Version = "v1", Resource = "apiservices", Kind = "APIService", Namespaced = false,
        ObjectType = typeof(V1APIService), Strategy = new ApiServiceStrategy(), Printer = new ApiServiceTablePrinter(),
        Categories = ["api-extensions"], Subresources = [SubresourceDescription.Status("APIService")],
        ProtobufMessage = "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIService",
    };

    public static IReadOnlyList<ResourceDescription> All => [ApiServices];
}

/// <summary>apiregistration/v1 APIService (ValidateAPIService): named version.group, a DNS-1123 group (empty only for
/// the legacy v1), a DNS-1035 version, priorities in range, a service with namespace, name and a valid port (443 by
/// default), no caBundle or insecureSkipTLSVerify for local services, not both for remote ones. A local APIService's
/// Available condition is set on every write.</summary>
internal sealed class ApiServiceStrategy : ModelStrategy<V1APIService>
{
    public ApiServiceStrategy() => HasGeneration = false; // kube-aggregator's strategy keeps no metadata.generation

    /// <summary>ValidateAPIService's name rule: a path segment (the core group's is "v1.", which no DNS name is), then
    /// version.group (checked in Validate).</summary>
    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override void PrepareForCreate(V1APIService apiService) => apiService.Status = new V1APIServiceStatus();

    protected override void Default(V1APIService apiService)
    {
        if (apiService.Spec?.Service is { } service) service.Port ??= 443;
    }

    protected override void Validate(V1APIService apiService, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = apiService.Spec ?? new V1APIServiceSpec();
        var group = spec.Group ?? "";
        var version = spec.Version ?? "";
        var required = version + "." + group;
        var name = apiService.Metadata.Name ?? "";
        if (name.Length > 0 && !Names.Check(name, Names.Rule.PathSegment).Any() && name != required)
            causes.Add(FieldErrors.Invalid("metadata.name", name, $"must be `spec.version+\".\"+spec.group`: \"{required}\""));
        if (group.Length == 0 && version != "v1")
            causes.Add(FieldErrors.Required("spec.group", "only v1 may have an empty group and it better be legacy kube"));
        if (group.Length > 0)
            foreach (var message in Names.Check(group, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.group", group, message));
        foreach (var message in Names.Check(version, Names.Rule.Dns1035Label))
            causes.Add(FieldErrors.Invalid("spec.version", version, message));
        if (spec.GroupPriorityMinimum is <= 0 or > 20000)
            causes.Add(FieldErrors.Invalid("spec.groupPriorityMinimum", spec.GroupPriorityMinimum, "must be positive and less than 20000"));
        if (spec.VersionPriority is <= 0 or > 1000)
            causes.Add(FieldErrors.Invalid("spec.versionPriority", spec.VersionPriority, "must be positive and less than 1000"));
        var caBundle = spec.CaBundle?.Length ?? 0;
        if (spec.Service is not { } service)
        {
            if (caBundle != 0)
                causes.Add(FieldErrors.Invalid("spec.caBundle", $"{caBundle} bytes", "local APIServices may not have a caBundle"));
            if (spec.InsecureSkipTLSVerify == true)
                causes.Add(FieldErrors.Invalid("spec.insecureSkipTLSVerify", true, "local APIServices may not have insecureSkipTLSVerify"));
        }
        else
        {
            if (string.IsNullOrEmpty(service.NamespaceProperty)) causes.Add(FieldErrors.Required("spec.service.namespace"));
            if (string.IsNullOrEmpty(service.Name)) causes.Add(FieldErrors.Required("spec.service.name"));
            if (service.Port is < 1 or > 65535)
                causes.Add(FieldErrors.Invalid("spec.service.port", service.Port, "must be between 1 and 65535, inclusive"));
            if (spec.InsecureSkipTLSVerify == true && caBundle > 0)
                causes.Add(FieldErrors.Invalid("spec.insecureSkipTLSVerify", true, "may not be true if caBundle is present"));
        }
        if (causes.Count == 0) SetAvailable(apiService, context);
    }

    /// <summary>What kube-aggregator's availability controller concludes for a local APIService; a service-backed one's
    /// condition is left to the aggregator's check (it needs the network).</summary>
    private static void SetAvailable(V1APIService apiService, IAdmissionContext context)
    {
        if (apiService.Spec!.Service is not null) return;
        var (status, reason, message) = ("True", "Local", "Local APIServices are always available");
        var statusObject = apiService.Status ??= new V1APIServiceStatus();
        var conditions = statusObject.Conditions ??= [];
        var existing = conditions.FirstOrDefault(c => c.Type == "Available");
        if (existing is not null && existing.Status == status && existing.Reason == reason && existing.Message == message) return;
        if (existing is not null) conditions.Remove(existing);
        conditions.Add(new V1APIServiceCondition
        {
            Type = "Available", Status = status, Reason = reason, Message = message,
            LastTransitionTime = existing?.Status == status ? existing.LastTransitionTime : DateTime.UtcNow,
        });
    }
}

/// <summary>NAME SERVICE AVAILABLE AGE; SERVICE is "Local" or namespace/name, AVAILABLE "False (reason)".</summary>
internal sealed class ApiServiceTablePrinter : TablePrinter<V1APIService>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Service", "The reference to the service that hosts this API endpoint."),
        TableColumnDefinition.Text("Available", "Whether this service is available."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1APIService apiService, DateTime now)
    {
        var service = apiService.Spec?.Service is { } s ? $"{s.NamespaceProperty}/{s.Name}" : "Local";
        var available = "Unknown";
        if (apiService.Status?.Conditions?.FirstOrDefault(c => c.Type == "Available") is { } condition)
            available = condition.Status == "True" || string.IsNullOrEmpty(condition.Reason) ? condition.Status : $"{condition.Status} ({condition.Reason})";
        return [apiService.Metadata.Name, service, available, Age(apiService, now)];
    }
}
