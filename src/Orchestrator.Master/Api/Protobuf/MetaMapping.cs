using k8s.Models;
using Orchestrator.Master.Api.Http;
using static Orchestrator.Master.Api.Protobuf.WireValues;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>Maps the apimachinery wire types (ObjectMeta, LabelSelector, Time, IntOrString, Quantity) to the model.</summary>
internal static class MetaMapping
{
    public static V1ObjectMeta? ToModel(Wire.ObjectMeta? m) => m is null ? null : new V1ObjectMeta
    {
        Name = OmitEmpty(m.Name),
        GenerateName = OmitEmpty(m.GenerateName),
        NamespaceProperty = OmitEmpty(m.Namespace),
        Uid = OmitEmpty(m.Uid),
        ResourceVersion = OmitEmpty(m.ResourceVersion),
        Generation = OmitZero(m.Generation),
        CreationTimestamp = ToModel(m.CreationTimestamp),
        DeletionTimestamp = ToModel(m.DeletionTimestamp),
        DeletionGracePeriodSeconds = Present(m.HasDeletionGracePeriodSeconds, m.DeletionGracePeriodSeconds),
        Labels = Map(m.Labels),
        Annotations = Map(m.Annotations),
        OwnerReferences = List(m.OwnerReferences, ToModel),
        Finalizers = Strings(m.Finalizers),
    };

    private static V1OwnerReference ToModel(Wire.OwnerReference r) => new()
    {
        ApiVersion = r.ApiVersion,
        Kind = r.Kind,
        Name = r.Name,
        Uid = r.Uid,
        Controller = Present(r.HasController, r.Controller),
        BlockOwnerDeletion = Present(r.HasBlockOwnerDeletion, r.BlockOwnerDeletion),
    };

    /// <summary>
    /// Kubernetes sends a zero time as an empty message (no seconds), which means "unset";
    /// a present seconds field is a real instant, even the Unix epoch.
    /// </summary>
    public static DateTime? ToModel(Wire.Time? t)
    {
        if (t is null || (!t.HasSeconds && !t.HasNanos)) return null;
        return DateTimeOffset.FromUnixTimeSeconds(t.Seconds).UtcDateTime.AddTicks(t.Nanos / 100);
    }

    public static V1LabelSelector? ToModel(Wire.LabelSelector? s) => s is null ? null : new V1LabelSelector
    {
        MatchLabels = Map(s.MatchLabels),
        MatchExpressions = List(s.MatchExpressions, r => new V1LabelSelectorRequirement
        {
            Key = r.Key,
            OperatorProperty = r.Operator,
            Values = Strings(r.Values),
        }),
    };

    /// <summary>An IntOrString exactly as sent (type 1 = string, otherwise int).</summary>
    public static IntOrString? ToModel(Wire.IntOrString? v)
    {
        if (v is null) return null;
        return v.Type == 1 ? (IntOrString)v.StrVal : (IntOrString)v.IntVal;
    }

    /// <summary>
    /// For non-pointer IntOrString fields (a Service port's targetPort): the Go zero value (int 0 or "")
    /// means "not given", and the store defaults it (targetPort = port).
    /// </summary>
    public static IntOrString? ToModelOmitZero(Wire.IntOrString? v)
    {
        if (v is null) return null;
        if (v.Type == 1 ? v.StrVal.Length == 0 : v.IntVal == 0) return null;
        return ToModel(v);
    }

    /// <summary>Parses the quantity's canonical string; an invalid one is a malformed body.</summary>
    public static ResourceQuantity ToModel(Wire.Quantity q)
    {
        try
        {
            return new ResourceQuantity(q.String);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new MalformedBodyException($"invalid quantity \"{q.String}\": {e.Message}");
        }
    }

    public static IDictionary<string, ResourceQuantity>? Quantities(Google.Protobuf.Collections.MapField<string, Wire.Quantity> values) =>
        values.Count == 0 ? null : values.ToDictionary(e => e.Key, e => ToModel(e.Value));
}
