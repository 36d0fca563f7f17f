using System.Globalization;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// core/v1 LimitRange (Kubernetes 1.32's ValidateLimitRange): each item's type is Pod, Container,
/// PersistentVolumeClaim or a fully qualified name, once per LimitRange; resource names as containers (Pod, Container)
/// or quotas name them; Pod items carry no defaults, PersistentVolumeClaim items a storage min or max; for every
/// resource min ≤ defaultRequest ≤ default ≤ max, maxLimitRequestRatio ≥ 1 and at most max/min, and default equal to
/// defaultRequest where overcommitting is not allowed, with the API server's messages.
/// </summary>
internal sealed class LimitRangeStrategy : ModelStrategy<V1LimitRange>
{
    public LimitRangeStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    private static readonly string[] Types = ["Container", "PersistentVolumeClaim", "Pod"];

    protected override void Default(V1LimitRange limitRange)
    {
        limitRange.Spec ??= new V1LimitRangeSpec();
        // SetDefaults_LimitRangeItem: a Container item's max fills a missing default, and a default fills a missing
        // defaultRequest.
        foreach (var item in limitRange.Spec.Limits ?? [])
        {
            if (item.Type != "Container") continue;
            item.DefaultProperty ??= new Dictionary<string, ResourceQuantity>();
            foreach (var (name, max) in item.Max ?? new Dictionary<string, ResourceQuantity>())
                item.DefaultProperty.TryAdd(name, max);
            item.DefaultRequest ??= new Dictionary<string, ResourceQuantity>();
            foreach (var (name, limit) in item.DefaultProperty)
                item.DefaultRequest.TryAdd(name, limit);
            if (item.DefaultProperty.Count == 0) item.DefaultProperty = null;
            if (item.DefaultRequest.Count == 0) item.DefaultRequest = null;
        }
    }

    protected override void Validate(V1LimitRange limitRange, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var limits = limitRange.Spec?.Limits ?? [];
        var types = new HashSet<string>();
        for (var i = 0; i < limits.Count; i++)
        {
            var item = limits[i] ?? new V1LimitRangeItem();
            var at = $"spec.limits[{i}]";
            var type = item.Type ?? "";
            ValidateType(type, $"{at}.type", causes);
            if (!types.Add(type)) causes.Add(FieldErrors.Duplicate($"{at}.type", type));

            var keys = new List<string>();
            void Names(IDictionary<string, ResourceQuantity>? map, string field)
            {
                foreach (var name in map?.Keys ?? [])
                {
                    var path = $"{at}.{field}[{name}]";
                    if (type is "Pod" or "Container") ResourceNames.ValidateContainerName(name, path, causes);
                    else ResourceNames.ValidateName(name, path, causes);
                    if (!keys.Contains(name)) keys.Add(name);
                }
            }
            Names(item.Max, "max");
            Names(item.Min, "min");
            if (type == "Pod")
            {
                if (item.DefaultProperty is { Count: > 0 }) causes.Add(FieldErrors.Forbidden($"{at}.default", "may not be specified when `type` is 'Pod'"));
                if (item.DefaultRequest is { Count: > 0 }) causes.Add(FieldErrors.Forbidden($"{at}.defaultRequest", "may not be specified when `type` is 'Pod'"));
            }
            else
            {
                Names(item.DefaultProperty, "default");
                Names(item.DefaultRequest, "defaultRequest");
            }
            if (type == "PersistentVolumeClaim" && Get(item.Min, "storage") is null && Get(item.Max, "storage") is null)
                causes.Add(FieldErrors.Required($"{at}.limits", "either minimum or maximum storage value is required, but neither was provided"));
            Names(item.MaxLimitRequestRatio, "maxLimitRequestRatio");

            foreach (var name in keys)
            {
                var min = Get(item.Min, name);
                var max = Get(item.Max, name);
                // a Pod item's defaults are refused above and, as in Kubernetes, not compared
                var def = type == "Pod" ? null : Get(item.DefaultProperty, name);
                var request = type == "Pod" ? null : Get(item.DefaultRequest, name);
                var ratio = Get(item.MaxLimitRequestRatio, name);
                if (min is { } mi && max is { } ma && mi.ToDecimal() > ma.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.min[{name}]", Quantities.Text(mi), $"min value {Quantities.Text(mi)} is greater than max value {Quantities.Text(ma)}"));
                if (request is { } dr && min is { } mn && mn.ToDecimal() > dr.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", Quantities.Text(dr), $"min value {Quantities.Text(mn)} is greater than default request value {Quantities.Text(dr)}"));
                if (request is { } r2 && max is { } mx && r2.ToDecimal() > mx.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", Quantities.Text(r2), $"default request value {Quantities.Text(r2)} is greater than max value {Quantities.Text(mx)}"));
                if (request is { } r3 && def is { } d3 && r3.ToDecimal() > d3.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", Quantities.Text(r3), $"default request value {Quantities.Text(r3)} is greater than default limit value {Quantities.Text(d3)}"));
                // Kubernetes names these two by the min and the max value respectively
                if (def is { } d2 && min is { } m3 && m3.ToDecimal() > d2.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.default[{name}]", Quantities.Text(m3), $"min value {Quantities.Text(m3)} is greater than default value {Quantities.Text(d2)}"));
                if (def is { } d && max is { } m2 && d.ToDecimal() > m2.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.default[{name}]", Quantities.Text(m2), $"default value {Quantities.Text(d)} is greater than max value {Quantities.Text(m2)}"));
                if (ratio is { } ra)
                {
                    if (ra.ToDecimal() < 1)
                        causes.Add(FieldErrors.Invalid($"{at}.maxLimitRequestRatio[{name}]", Quantities.Text(ra), $"ratio {Quantities.Text(ra)} is less than 1"));
                    if (min is { } m4 && max is { } m5 && m4.ToDecimal() > 0)
                    {
                        var maxRatio = m5.ToDecimal() / m4.ToDecimal();
                        if (ra.ToDecimal() > maxRatio)
                            causes.Add(FieldErrors.Invalid($"{at}.maxLimitRequestRatio[{name}]", Quantities.Text(ra),
                                $"ratio {Quantities.Text(ra)} is greater than max/min = {maxRatio.ToString("0.000000", CultureInfo.InvariantCulture)}"));
                    }
                }
                // resources that may not be overcommitted (huge pages, extended resources): default and defaultRequest agree
                if (!ResourceNames.OvercommitAllowed(name) && def is { } d4 && request is { } r4 && d4.ToDecimal() != r4.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", Quantities.Text(r4),
                        $"default value {Quantities.Text(d4)} must equal to defaultRequest value {Quantities.Text(r4)} in {name}"));
            }
        }
    }

    /// <summary>validateLimitRangeTypeName: a qualified name; without a domain, Pod, Container or PersistentVolumeClaim.</summary>
    private static void ValidateType(string type, string path, List<StoreErrorCause> causes)
    {
        var problems = LabelRules.CheckKey(type).ToList();
        foreach (var message in problems) causes.Add(FieldErrors.Invalid(path, type, message));
        if (problems.Count == 0 && !type.Contains('/') && !Types.Contains(type))
            causes.Add(FieldErrors.Invalid(path, type, "must be a standard limit type or fully qualified"));
    }

    private static IEnumerable<string> Keys(IDictionary<string, ResourceQuantity>? map) => map?.Keys ?? Enumerable.Empty<string>();

    private static ResourceQuantity? Get(IDictionary<string, ResourceQuantity>? map, string name) =>
        map is not null && map.TryGetValue(name, out var q) ? q : null;
}
