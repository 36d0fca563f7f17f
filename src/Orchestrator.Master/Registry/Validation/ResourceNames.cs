using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// Kubernetes 1.32's rules for resource names and quantities in containers' resources, a pod's overhead and LimitRange
/// items (pkg/apis/core/validation and pkg/apis/core/helper): which names are standard, native, extended, huge pages or
/// integers, and ValidateResourceRequirements with its messages.
/// </summary>
internal static class ResourceNames
{
    private const string HugePagesPrefix = "hugepages-";
    private const string NativePrefix = "kubernetes.io/";
    private const string RequestsPrefix = "requests.";
    private static readonly HashSet<string> ContainerResources = ["cpu", "memory", "ephemeral-storage"];
    /// <summary>The helper's standardResources: the names a resource may have without a domain (with huge pages).</summary>
    private static readonly HashSet<string> StandardResources =
    [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage", "limits.cpu",
        "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services", "replicationcontrollers", "secrets",
        "configmaps", "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports", "services.loadbalancers",
    ];

    private static readonly HashSet<string> IntegerResources =
    [
        "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims",
        "services.nodeports", "services.loadbalancers",
    ];

    public static bool IsHugePages(string name) => name.StartsWith(HugePagesPrefix, StringComparison.Ordinal);

    /// <summary>IsNativeResource: no domain, or a kubernetes.io one.</summary>
    public static bool IsNative(string name) => !name.Contains('/') || name.Contains(NativePrefix, StringComparison.Ordinal);

    /// <summary>IsExtendedResourceName: a fully qualified name outside kubernetes.io that is a qualified name after
    /// "requests." (as a quota names it).</summary>
    public static bool IsExtended(string name) =>
        !IsNative(name) && !name.StartsWith(RequestsPrefix, StringComparison.Ordinal) && !LabelRules.CheckKey(RequestsPrefix + name).Any();

    /// <summary>IsOvercommitAllowed: native resources but huge pages may be requested below their limit.</summary>
    public static bool OvercommitAllowed(string name) => IsNative(name) && !IsHugePages(name);

    private static bool IsInteger(string name) => IntegerResources.Contains(name) || IsExtended(name);

    private static bool IsStandard(string name) =>
        StandardResources.Contains(name) || IsHugePages(name) ||
        name.StartsWith(RequestsPrefix + HugePagesPrefix, StringComparison.Ordinal);

    /// <summary>validateResourceName: a qualified name, and without a domain a standard resource.</summary>
    public static void ValidateName(string name, string path, List<StoreErrorCause> causes)
    {
        var problems = LabelRules.CheckKey(name).ToList();
        foreach (var message in problems) causes.Add(FieldErrors.Invalid(path, name, message));
        if (problems.Count == 0 && !name.Contains('/') && !IsStandard(name))
            causes.Add(FieldErrors.Invalid(path, name, "must be a standard resource type or fully qualified"));
    }

    /// <summary>validateContainerResourceName: <see cref="ValidateName"/>, then cpu, memory, ephemeral-storage or huge
    /// pages without a domain, or an extended resource with one.</summary>
    public static void ValidateContainerName(string name, string path, List<StoreErrorCause> causes)
    {
        ValidateName(name, path, causes);
        if (!name.Contains('/'))
        {
            if (!ContainerResources.Contains(name) && !IsHugePages(name))
                causes.Add(FieldErrors.Invalid(path, name, "must be a standard resource for containers"));
        }
        else if (!IsNative(name) && !IsExtended(name))
            causes.Add(FieldErrors.Invalid(path, name, "doesn't follow extended resource name standard"));
    }

    /// <summary>ValidateResourceQuantityValue: not negative, and a whole number for integer resources.</summary>
    public static void ValidateQuantity(string name, ResourceQuantity quantity, string path, List<StoreErrorCause> causes)
    {
        var value = quantity.ToDecimal();
        if (value < 0) causes.Add(FieldErrors.Invalid(path, Quantities.Text(quantity), "must be greater than or equal to 0"));
        if (IsInteger(name) && decimal.Truncate(value) != value) causes.Add(FieldErrors.Invalid(path, Quantities.Text(quantity), "must be an integer"));
    }

    /// <summary>A huge page quantity is a whole number of its pages (hugepages-2Mi: a multiple of 2Mi).</summary>
    private static void ValidateHugePages(string name, ResourceQuantity quantity, string path, List<StoreErrorCause> causes)
    {
        decimal page;
        try
        {
            page = Quantities.Parse(name[HugePagesPrefix.Length..]).ToDecimal();
        }
        catch (FormatException)
        {
            page = 0;
        }
        var value = decimal.Truncate(quantity.ToDecimal()); // Go's Value(): the integer part (rounded up, for bytes whole already)
        if (page <= 0 || decimal.Truncate(page) != page || value % page != 0)
            causes.Add(FieldErrors.Invalid(path, Quantities.Text(quantity), $"{Quantities.Text(quantity)} is not positive integer multiple of {name}"));
    }

    /// <summary>ValidateResourceRequirements (1.32): names and quantities of limits and requests; a request at most its
    /// limit, and equal to it for resources that may not be overcommitted (which need a limit); huge pages alongside cpu or
    /// memory. <paramref name="path"/> is the requirements' path (…resources, or spec.overhead for a pod's overhead).</summary>
    public static void ValidateRequirements(IDictionary<string, ResourceQuantity>? limits, IDictionary<string, ResourceQuantity>? requests,
        string path, List<StoreErrorCause> causes)
    {
        var limitsPath = $"{path}.limits";
        var requestsPath = $"{path}.requests";
        bool cpuOrMemory = false, hugePages = false;
        foreach (var (name, quantity) in limits ?? new Dictionary<string, ResourceQuantity>())
        {
            var at = $"{limitsPath}[{name}]";
            ValidateContainerName(name, at, causes);
            if (quantity is null) continue;
            ValidateQuantity(name, quantity, at, causes);
            if (IsHugePages(name))
            {
                hugePages = true;
                ValidateHugePages(name, quantity, at, causes);
            }
            cpuOrMemory |= name is "cpu" or "memory";
        }
        foreach (var (name, quantity) in requests ?? new Dictionary<string, ResourceQuantity>())
        {
            var at = $"{requestsPath}[{name}]";
            ValidateContainerName(name, at, causes);
            if (quantity is null) continue;
            ValidateQuantity(name, quantity, at, causes);
            if (limits is not null && limits.TryGetValue(name, out var limit) && limit is not null)
            {
                var (request, max) = (quantity.ToDecimal(), limit.ToDecimal());
                if (request != max && !OvercommitAllowed(name))
                    causes.Add(FieldErrors.Invalid(requestsPath, Quantities.Text(quantity), $"must be equal to {name} limit of {Quantities.Text(limit)}"));
                else if (request > max)
                    causes.Add(FieldErrors.Invalid(requestsPath, Quantities.Text(quantity), $"must be less than or equal to {name} limit of {Quantities.Text(limit)}"));
            }
            else if (!OvercommitAllowed(name))
                causes.Add(FieldErrors.Required(limitsPath, "Limit must be set for non overcommitable resources"));
            if (IsHugePages(name))
            {
                hugePages = true;
                ValidateHugePages(name, quantity, at, causes);
            }
            cpuOrMemory |= name is "cpu" or "memory";
        }
        if (hugePages && !cpuOrMemory) causes.Add(FieldErrors.Forbidden(path, "HugePages require cpu or memory"));
    }
}
