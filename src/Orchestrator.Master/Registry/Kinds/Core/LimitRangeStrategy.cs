using System.Globalization;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// core/v1 LimitRange (Kubernetes' ValidateLimitRange): each item's type is Pod, Container or PersistentVolumeClaim;
/// Pod items carry no defaults; for every resource min ≤ defaultRequest ≤ default ≤ max and maxLimitRequestRatio ≥ 1,
/// with the API server's messages.
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
        for (var i = 0; i < limits.Count; i++)
        {
            var item = limits[i];
            var at = $"spec.limits[{i}]";
            if (string.IsNullOrEmpty(item.Type)) causes.Add(FieldErrors.Required($"{at}.type"));
            else if (!Types.Contains(item.Type)) causes.Add(FieldErrors.NotSupported($"{at}.type", item.Type, Types));
            if (item.Type == "Pod")
            {
                if (item.DefaultProperty is { Count: > 0 }) causes.Add(FieldErrors.Forbidden($"{at}.default", "may not be specified when `type` is 'Pod'"));
                if (item.DefaultRequest is { Count: > 0 }) causes.Add(FieldErrors.Forbidden($"{at}.defaultRequest", "may not be specified when `type` is 'Pod'"));
            }
            var names = Keys(item.Max).Concat(Keys(item.Min)).Concat(Keys(item.DefaultProperty)).Concat(Keys(item.DefaultRequest))
                .Concat(Keys(item.MaxLimitRequestRatio)).Distinct();
            foreach (var name in names)
            {
                var min = Get(item.Min, name);
                var max = Get(item.Max, name);
                var def = Get(item.DefaultProperty, name);
                var request = Get(item.DefaultRequest, name);
                var ratio = Get(item.MaxLimitRequestRatio, name);
                if (min is { } mi && max is { } ma && mi.ToDecimal() > ma.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.min[{name}]", mi.ToString(), $"min value {mi} is greater than max value {ma}"));
                if (request is { } dr && min is { } mn && mn.ToDecimal() > dr.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", dr.ToString(), $"min value {mn} is greater than default request value {dr}"));
                if (request is { } r2 && max is { } mx && r2.ToDecimal() > mx.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", r2.ToString(), $"default request value {r2} is greater than max value {mx}"));
                if (request is { } r3 && def is { } d3 && r3.ToDecimal() > d3.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.defaultRequest[{name}]", r3.ToString(), $"default request value {r3} is greater than default limit value {d3}"));
                if (def is { } d && max is { } m2 && d.ToDecimal() > m2.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.default[{name}]", d.ToString(), $"default value {d} is greater than max value {m2}"));
                if (def is { } d2 && min is { } m3 && m3.ToDecimal() > d2.ToDecimal())
                    causes.Add(FieldErrors.Invalid($"{at}.default[{name}]", d2.ToString(), $"min value {m3} is greater than default value {d2}"));
                if (ratio is { } ra)
                {
                    if (ra.ToDecimal() < 1)
                        causes.Add(FieldErrors.Invalid($"{at}.maxLimitRequestRatio[{name}]", ra.ToString(), $"ratio {ra} is less than 1"));
                    if (min is { } m4 && max is { } m5 && m4.ToDecimal() > 0)
                    {
                        var maxRatio = m5.ToDecimal() / m4.ToDecimal();
                        if (ra.ToDecimal() > maxRatio)
                            causes.Add(FieldErrors.Invalid($"{at}.maxLimitRequestRatio[{name}]", ra.ToString(),
                                $"ratio {ra} is greater than max/min = {maxRatio.ToString("0.000000", CultureInfo.InvariantCulture)}"));
                    }
                }
            }
        }
    }

    private static IEnumerable<string> Keys(IDictionary<string, ResourceQuantity>? map) => map?.Keys ?? Enumerable.Empty<string>();

    private static ResourceQuantity? Get(IDictionary<string, ResourceQuantity>? map, string name) =>
        map is not null && map.TryGetValue(name, out var q) ? q : null;
}
