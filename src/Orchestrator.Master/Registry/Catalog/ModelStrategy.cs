using System.Reflection;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// The strategy of a built-in kind held in its KubernetesClient model <typeparamref name="T"/>, as kube-apiserver's
/// generic store with a kind's strategy.go: what every kind shares is here — status is a subresource when the model
/// has one (kept on updates, replaced only through /status), metadata.generation counts spec changes, the metadata
/// rules (name, labels, annotations) — and a kind overrides only the hooks it needs: <see cref="Default"/>,
/// <see cref="PrepareForCreate(T)"/>, <see cref="Validate"/>, <see cref="ValidateUpdate"/>. A kind without rules of
/// its own uses this class as is.
/// </summary>
internal class ModelStrategy<T> : IResourceStrategy where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly PropertyInfo? SpecProperty = typeof(T).GetProperty("Spec");
    private static readonly PropertyInfo? StatusProperty = typeof(T).GetProperty("Status");

    /// <summary>The rule names of this kind follow (DNS-1123 subdomain unless the kind says otherwise).</summary>
    public virtual Names.Rule NameRule => Names.Rule.Dns1123Subdomain;

    public bool Accepts(IKubernetesObject<V1ObjectMeta> obj) => obj is T;

    /// <summary>Whether metadata.generation is kept (1 on create, +1 on an update <see cref="GenerationChanged"/>
    /// says bumps it). In kube-apiserver a kind's strategy sets it, and not every kind with a spec does: in 1.32 pods,
    /// services, namespaces, nodes, volumes and claims, quotas, limit ranges, leases, volume attachments, certificate
    /// requests, CSINodes, APIServices and HorizontalPodAutoscalers carry none, while PodTemplates, PriorityClasses and
    /// webhook configurations, which have no spec, do.</summary>
    public bool HasGeneration { get; init; } = SpecProperty is not null;

    void IResourceStrategy.PrepareForCreate(IKubernetesObject<V1ObjectMeta> obj, List<string> warnings) =>
        PrepareForCreate((T)obj, warnings);

    bool IResourceStrategy.PrepareForUpdate(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta> old)
    {
        StatusProperty?.SetValue(obj, StatusProperty.GetValue(old));
        PrepareForUpdate((T)obj, (T)old);
        // kube-apiserver compares decoded, hence defaulted, objects: an update that only spells out defaults is no change.
        Default((T)obj);
        return HasGeneration && GenerationChanged((T)obj, (T)old);
    }

    /// <summary>Whether an update bumps metadata.generation (where the kind keeps one): by default, when the spec
    /// changed (kinds without a spec: never, as a PriorityClass).</summary>
    protected virtual bool GenerationChanged(T obj, T old) =>
        SpecProperty is not null && !KubeObjects.SameJson(SpecProperty.GetValue(old), SpecProperty.GetValue(obj));

    IKubernetesObject<V1ObjectMeta>? IResourceStrategy.PrepareForSubresourceUpdate(string subresource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta> old)
    {
        if (subresource == "status" && StatusProperty is not null) return PrepareForStatusUpdate((T)obj, (T)old);
        return PrepareForSubresourceUpdate(subresource, (T)obj, (T)old);
    }

    bool IResourceStrategy.ValidatesStatusUpdates => ValidatesStatusUpdates;

    /// <summary>Whether an update through /status is admitted (defaulted and validated) like other updates.</summary>
    protected virtual bool ValidatesStatusUpdates => false;

    /// <summary>Only this class's <see cref="PrepareForStatusUpdate"/> sets the status alone: a kind that overrides it
    /// may write into other parts of the stored object's copy (a Deployment keeps fields of the old status).</summary>
    bool IResourceStrategy.StatusUpdateReplacesOnlyStatus => StatusProperty is not null && !ValidatesStatusUpdates && !_ownStatusUpdate;

    bool IResourceStrategy.StatusIsSubresource(IKubernetesObject<V1ObjectMeta> obj) => StatusProperty is not null;

    object? IResourceStrategy.StatusOf(IKubernetesObject<V1ObjectMeta> obj) => StatusProperty!.GetValue(obj);

    private readonly bool _ownStatusUpdate;

    public ModelStrategy() =>
        _ownStatusUpdate = GetType().GetMethod(nameof(PrepareForStatusUpdate), BindingFlags.Instance | BindingFlags.NonPublic)!
            .DeclaringType != typeof(ModelStrategy<T>);

    /// <summary>An update through /status: the stored object with the new status (what else a kind keeps of the old
    /// status, it keeps here).</summary>
    protected virtual T PrepareForStatusUpdate(T obj, T old)
    {
        StatusProperty!.SetValue(old, StatusProperty.GetValue(obj));
        return old;
    }

    bool IResourceStrategy.HasFinalizers(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.Finalizers is { Count: > 0 } || HasFinalizers((T)obj);

    void IResourceStrategy.PrepareForDeletion(IKubernetesObject<V1ObjectMeta> marked) => PrepareForDeletion((T)marked);

    StoreError? IResourceStrategy.RefuseDeletion(IStoredResource resource, IKubernetesObject<V1ObjectMeta> stored) =>
        RefuseDeletion(resource, (T)stored);

    void IResourceStrategy.Default(IKubernetesObject<V1ObjectMeta> obj) => Default((T)obj);

    IReadOnlyList<StoreErrorCause> IResourceStrategy.Admit(IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context, string? subresource)
    {
        var causes = new List<StoreErrorCause>();
        MetadataRules.Validate(obj.Metadata, NameRule, causes, old?.Metadata);
        var typed = (T)obj;
        Default(typed);
        if (old is null) Validate(typed, context, causes);
        else if (subresource is not null) ValidateSubresourceUpdate(subresource, typed, (T)old, context, causes);
        else ValidateUpdate(typed, (T)old, context, causes);
        return causes;
    }

    /// <summary>A new object before it is admitted: what the server sets that clients may not (an initial status).</summary>
    protected virtual void PrepareForCreate(T obj)
    {
    }

    /// <summary><see cref="PrepareForCreate(T)"/> for a kind that also warns of the object as sent, before changing it.</summary>
    protected virtual void PrepareForCreate(T obj, List<string> warnings) => PrepareForCreate(obj);

    /// <summary>An update of the main resource, after the stored status was taken over: what else the kind keeps.</summary>
    protected virtual void PrepareForUpdate(T obj, T old)
    {
    }

    /// <summary>A kind's own writable subresource (a namespace's /finalize): the stored object with what it may change,
    /// or null when there is none of that name.</summary>
    protected virtual T? PrepareForSubresourceUpdate(string subresource, T obj, T old) => null;

    /// <summary>Finalizers of the kind's own besides metadata.finalizers (a namespace's spec.finalizers).</summary>
    protected virtual bool HasFinalizers(T obj) => false;

    /// <summary>The marked copy of an object being deleted.</summary>
    protected virtual void PrepareForDeletion(T marked)
    {
    }

    /// <summary>Why the object may not be deleted now, or null (most kinds: always deletable).</summary>
    protected virtual StoreError? RefuseDeletion(IStoredResource resource, T stored) => null;

    /// <summary>Kubernetes' defaults for the kind, applied on create and on every update.</summary>
    protected virtual void Default(T obj)
    {
    }

    /// <summary>The kind's validation of a new (defaulted) object.</summary>
    protected virtual void Validate(T obj, IAdmissionContext context, List<StoreErrorCause> causes)
    {
    }

    /// <summary>The kind's validation of an update through its own subresource (a pod's /ephemeralcontainers); by
    /// default as any update.</summary>
    protected virtual void ValidateSubresourceUpdate(string subresource, T obj, T old, IAdmissionContext context, List<StoreErrorCause> causes) =>
        ValidateUpdate(obj, old, context, causes);

    /// <summary>The kind's validation of an update: the object's own rules, then what may not change.</summary>
    protected virtual void ValidateUpdate(T obj, T old, IAdmissionContext context, List<StoreErrorCause> causes) =>
        Validate(obj, context, causes);
}
