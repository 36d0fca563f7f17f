using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>One object to store or remove; the store stamps its resourceVersion when it persists it.</summary>
internal sealed record PlannedWrite(string Resource, IKubernetesObject<V1ObjectMeta> Object, bool Removed = false);

/// <summary>What a request turns into: the writes in order and the object to answer with, or an error.</summary>
internal sealed record WritePlan(IReadOnlyList<PlannedWrite> Writes, IKubernetesObject<V1ObjectMeta>? Result, StoreError? Error = null)
{
    /// <summary>What the admission plugins said of the write (warnings, audit annotations).</summary>
    public AdmissionNotes? Notes { get; init; }

    public static WritePlan Fail(StoreError error) => new([], null, error);
    public static WritePlan Unchanged(IKubernetesObject<V1ObjectMeta> current) => new([], current);
    public static WritePlan One(PlannedWrite write) => new([write], write.Object);
}

/// <summary>
/// Turns create/update/delete requests into writes against the current state without changing it: checks
/// existence, preconditions and optimistic concurrency, fills server-side fields, runs admission, and decides
/// what a delete does to the object and its dependents. Plain code, so it is tested without an actor.
/// Every object it plans is its own deep copy, or the request's own object when its sender handed it over
/// (<see cref="UpdateObject.HandedOver"/>), or a pod's binding (its own metadata, spec and status over the stored pod's
/// other parts, <see cref="PodBindings.Bind"/>), or a /status update that replaces only the status (its own metadata and
/// status over the stored object's other parts, <see cref="StatusBase"/>); a request's object that was not handed over
/// and the stored objects are never modified. What is particular to a kind comes from its strategy in the
/// <see cref="IResourceCatalog"/>.
/// </summary>
internal sealed class WritePlanner(IStateView state, IResourceCatalog catalog, IReadOnlyList<IAdmissionPlugin>? admissions = null)
    : IAdmissionContext
{
    private readonly IReadOnlyList<IAdmissionPlugin> _admissions = admissions ?? [];
    private readonly UidSource _uids = new();

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
        state.List(storeName, @namespace);

    /// <summary>The strategies' context of one write: this planner, with the apiVersion the write was requested in.</summary>
    private IAdmissionContext Context(string? requestApiVersion) =>
        requestApiVersion is null ? this : new RequestContext(this, requestApiVersion);

    private sealed class RequestContext(WritePlanner planner, string requestApiVersion) : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
            planner.List(storeName, @namespace);

        public string? RequestApiVersion => requestApiVersion;
    }

    public static WritePlan Merge(IEnumerable<WritePlan> plans)
    {
        var list = plans.ToList();
        var error = list.FirstOrDefault(p => p.Error is not null)?.Error;
        return error is not null ? WritePlan.Fail(error) : new WritePlan(list.SelectMany(p => p.Writes).ToList(), list.LastOrDefault()?.Result);
    }

    public WritePlan PlanCreate(string resourceName, IKubernetesObject<V1ObjectMeta> input, FieldManager? manager = null, string? user = null,
        bool handedOver = false, string? requestApiVersion = null, AdmissionUser? userInfo = null, bool dryRun = false)
    {
        var context = Context(requestApiVersion);
        if (catalog.Find(resourceName) is not { } resource) return WritePlan.Fail(StoreErrors.UnknownResource(resourceName));
        if (WrongType(resource, input) is { } wrongType) return WritePlan.Fail(wrongType);
        var obj = handedOver ? input : KubeObjects.CloneObject(input);
        var meta = obj.Metadata ??= new V1ObjectMeta();
        var strategy = resource.Strategy;

        if (resource.Namespaced)
        {
            if (string.IsNullOrEmpty(meta.NamespaceProperty))
                return WritePlan.Fail(StoreErrors.BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
            var ns = state.Namespace(meta.NamespaceProperty);
            if (ns is null) return WritePlan.Fail(StoreErrors.NamespaceNotFound(meta.NamespaceProperty));
            if (ns.Metadata.DeletionTimestamp is not null)
                return WritePlan.Fail(StoreErrors.NamespaceTerminating(resource, meta.Name, meta.NamespaceProperty));
        }
        else meta.NamespaceProperty = null;

        if (string.IsNullOrEmpty(meta.Name))
        {
            if (string.IsNullOrEmpty(meta.GenerateName))
                return WritePlan.Fail(StoreErrors.Invalid(resource, "",
                    [new StoreErrorCause("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")]));
            do meta.Name = NameGenerator.Generate(meta.GenerateName);
            while (state.Get(resourceName, meta.NamespaceProperty, meta.Name) is not null);
        }

        // kube-apiserver's create handler runs its field manager on the object as decoded (hence defaulted), before the
        // kind's PrepareForCreate and mutating admission: the writer owns what it sent and its defaults, not what the
        // server adds (a pod's Pending status, the service account volume, DefaultTolerationSeconds' tolerations, the
        // priority). Owning those, a client-side apply upgraded to server-side apply removed them on its next apply.
        strategy.Default(obj);
        var sent = manager is { Operation: ManagedFields.Update } ? KubeObjects.SerializeToUtf8Bytes(obj) : null;
        var prepareWarnings = new List<string>(0);
        strategy.PrepareForCreate(obj, prepareWarnings);
        meta.Uid = _uids.Next();
        meta.CreationTimestamp = NowSeconds();
        meta.DeletionTimestamp = null;
        meta.DeletionGracePeriodSeconds = null;
        meta.ResourceVersion = null;
        // Kinds that keep a generation start it at 1; kube-apiserver leaves a client's value alone on the others.
        if (strategy.HasGeneration) meta.Generation = 1;

        var causes = strategy.Admit(obj, null, context);
        if (causes.Count > 0) return WritePlan.Fail(StoreErrors.Invalid(resource, meta.Name, causes));
        StampTypeMeta(resource, obj);
        var attributes = new AdmissionAttributes(resource, AdmissionAttributes.Create, null, obj, null) { User = user, UserInfo = userInfo, DryRun = dryRun };
        var mutation = Mutate(attributes);
        if (mutation.Refusal is { } mutationRefusal) return WritePlan.Fail(mutationRefusal);
        if (mutation.Changed && strategy.Admit(obj, null, context) is { Count: > 0 } mutatedCauses)
            return WritePlan.Fail(StoreErrors.Invalid(resource, meta.Name, mutatedCauses));
        var (refusal, notes, charges) = Validate(attributes);
        if (refusal is not null) return WritePlan.Fail(refusal with { Notes = AdmissionNotes.After(prepareWarnings, refusal.Notes) });
        notes = AdmissionNotes.After(prepareWarnings, notes);
        if (state.Get(resourceName, meta.NamespaceProperty, meta.Name) is not null)
            return WritePlan.Fail(StoreErrors.AlreadyExists(resource, meta.Name));
        if (sent is not null)
            ManagedFields.RecordCreate(obj, sent, strategy.StatusIsSubresource(obj), manager!.Name, manager.Subresource, NowSeconds());
        return new WritePlan([new PlannedWrite(resourceName, obj), .. charges], obj) { Notes = notes };
    }

    public WritePlan PlanUpdate(string resourceName, IKubernetesObject<V1ObjectMeta> input, string? subresource,
        FieldManager? manager = null, string? user = null, bool handedOver = false, string? requestApiVersion = null,
        AdmissionUser? userInfo = null, bool dryRun = false)
    {
        var context = Context(requestApiVersion);
        if (catalog.Find(resourceName) is not { } resource) return WritePlan.Fail(StoreErrors.UnknownResource(resourceName));
        if (WrongType(resource, input) is { } wrongType) return WritePlan.Fail(wrongType);
        var name = input.Metadata?.Name ?? "";
        var ns = resource.Namespaced ? input.Metadata?.NamespaceProperty : null;
        var old = state.Get(resourceName, ns, name);
        if (old is null) return WritePlan.Fail(StoreErrors.NotFound(resource, name));
        // resourceVersion "0" is no precondition: Kubernetes parses it as 0, an unconditional update.
        var expected = input.Metadata!.ResourceVersion;
        if (expected is { Length: > 0 } and not "0" && expected != old.Metadata.ResourceVersion)
            return WritePlan.Fail(StoreErrors.Conflict(resource, name));
        if (subresource == PodBindings.Subresource && old is V1Pod stored && input is V1Pod binding)
            return PlanBinding(resource, resourceName, stored, binding, user);

        var strategy = resource.Strategy;
        // A /status update that replaces only the status is built on a shallow copy of the stored object (StatusBase): the
        // result differs from the stored object in its status, resourceVersion and managed fields alone, so only the two
        // statuses are serialized to compare them and to compute the managed fields (StatusOnlyUpdate).
        var sharesStored = subresource == "status" && strategy.StatusUpdateReplacesOnlyStatus;
        // Otherwise the stored object's text, serialized once: the copy of it a strategy changes is read from it, and it
        // is what the result is compared with (no change) and what the managed fields are computed against.
        var oldJson = sharesStored ? null : KubeObjects.SerializeToUtf8Bytes(old);
        IKubernetesObject<V1ObjectMeta> obj;
        var validateAfterMutation = false;
        if (subresource is not null)
        {
            var current = sharesStored ? StatusBase(old) : CopyOf(old, oldJson!);
            if (strategy.PrepareForSubresourceUpdate(subresource, handedOver ? input : KubeObjects.CloneObject(input), current) is not { } updated)
                return WritePlan.Fail(StoreErrors.BadRequest($"the store cannot update the subresource {subresource}"));
            obj = updated;
            // A kind's own subresource (a namespace's /finalize) changes what the kind validates: admit the result.
            if ((subresource != "status" || strategy.ValidatesStatusUpdates) && strategy.Admit(obj, old, context, subresource) is { Count: > 0 } causes)
                return WritePlan.Fail(StoreErrors.Invalid(resource, name, causes));
        }
        else
        {
            obj = handedOver ? input : KubeObjects.CloneObject(input);
            var meta = obj.Metadata;
            meta.NamespaceProperty = ns;
            meta.Uid = old.Metadata.Uid;
            meta.CreationTimestamp = old.Metadata.CreationTimestamp;
            meta.DeletionTimestamp = old.Metadata.DeletionTimestamp;
            meta.DeletionGracePeriodSeconds = old.Metadata.DeletionGracePeriodSeconds;
            meta.GenerateName = old.Metadata.GenerateName;
            meta.Generation = old.Metadata.Generation;
            if (strategy.PrepareForUpdate(obj, CopyOf(old, oldJson!)))
                meta.Generation = (old.Metadata.Generation ?? 0) + 1;
            // validated after the mutating plugins, as kube-apiserver runs admission before the update's validation: a
            // replace from a manifest gets back what admission adds (DefaultTolerationSeconds' tolerations) before
            // ValidatePodUpdate compares it with the stored pod
            validateAfterMutation = true;
        }
        obj.Metadata.ResourceVersion = old.Metadata.ResourceVersion;
        ManagedFields.TakeBaseline(obj, old);
        var attributes = new AdmissionAttributes(resource, AdmissionAttributes.Update, subresource, obj, old) { User = user, UserInfo = userInfo, DryRun = dryRun };
        var mutation = Mutate(attributes);
        if (mutation.Refusal is { } mutationRefusal) return WritePlan.Fail(mutationRefusal);
        // No mutating plugin acts on a /status update (ServiceAccount, LimitRanger, ResourceQuota skip subresources); one
        // that did would write into parts the result shares with the stored object.
        if (mutation.Changed && sharesStored)
            return WritePlan.Fail(StoreErrors.WriteFailed($"a mutating admission plugin changed an update of {resourceName}/status"));
        if ((validateAfterMutation || mutation.Changed) && strategy.Admit(obj, old, context) is { Count: > 0 } mutatedCauses)
            return WritePlan.Fail(StoreErrors.Invalid(resource, name, mutatedCauses));
        if (validateAfterMutation) StampTypeMeta(resource, obj);
        var (refusal, notes, charges) = Validate(attributes);
        if (refusal is not null) return WritePlan.Fail(refusal);

        // Kubernetes writes nothing (and keeps the resourceVersion) when an update changes nothing. The two texts serve
        // the managed fields too.
        byte[] json;
        if (sharesStored && StatusOnlyUpdate(strategy, obj, old) is var (status, oldStatus))
        {
            if (status.AsSpan().SequenceEqual(oldStatus)) return WritePlan.Unchanged(old) with { Notes = notes };
            (json, oldJson) = (status, oldStatus);
        }
        else
        {
            json = KubeObjects.SerializeToUtf8Bytes(obj);
            oldJson ??= KubeObjects.SerializeToUtf8Bytes(old);
            if (json.AsSpan().SequenceEqual(oldJson)) return WritePlan.Unchanged(old) with { Notes = notes };
        }
        if (manager is { Operation: ManagedFields.Update })
            ManagedFields.RecordUpdate(obj, old, manager.Name, manager.Subresource ?? subresource, NowSeconds(), json, oldJson);
        // A marked object whose last finalizer is gone is deleted (the finalizer's owner has finished). A pod marked for
        // graceful deletion has none to lose: its status updates keep it until the node reports it stopped.
        if (obj.Metadata.DeletionTimestamp is not null && !strategy.HasFinalizers(obj) && strategy.HasFinalizers(old))
            return WritePlan.One(new PlannedWrite(resourceName, obj, Removed: true)) with { Notes = notes };
        return new WritePlan([new PlannedWrite(resourceName, obj), .. charges], obj) { Notes = notes };
    }

    /// <summary>A pod's /binding (<see cref="PodBindings"/>): the request names the node (spec.nodeName) and the
    /// annotations to merge. No strategy, no managed fields, as Kubernetes' BindingREST; the admission plugins see it.</summary>
    private WritePlan PlanBinding(IStoredResource resource, string resourceName, V1Pod stored, V1Pod binding, string? user)
    {
        var name = stored.Metadata.Name;
        // ValidatePodBinding: the target's name is required
        if (binding.Spec?.NodeName is not { Length: > 0 } node)
            return WritePlan.Fail(StoreErrors.Invalid(resource, name, [new StoreErrorCause("target.name", "FieldValueRequired", "Required value")]));
        if (PodBindings.Refusal(stored) is { } refusal) return WritePlan.Fail(refusal);
        var bound = PodBindings.Bind(stored, node, binding.Metadata?.Annotations, DateTime.UtcNow);
        var attributes = new AdmissionAttributes(resource, AdmissionAttributes.Update, PodBindings.Subresource, bound, stored) { User = user };
        // No mutating plugin acts on a binding (Kubernetes' see the Binding object, not the pod); one that did would change
        // parts the bound pod shares with the stored one.
        var mutation = Mutate(attributes);
        if (mutation.Refusal is { } mutationRefusal) return WritePlan.Fail(mutationRefusal);
        if (mutation.Changed) return WritePlan.Fail(StoreErrors.WriteFailed("a mutating admission plugin changed a pod's binding"));
        var (refused, notes, charges) = Validate(attributes);
        if (refused is not null) return WritePlan.Fail(refused);
        return new WritePlan([new PlannedWrite(resourceName, bound), .. charges], bound) { Notes = notes };
    }

    public WritePlan PlanDelete(DeleteObject delete)
    {
        var key = delete.Key;
        if (catalog.Find(key.Resource) is not { } resource) return WritePlan.Fail(StoreErrors.UnknownResource(key.Resource));
        var stored = state.Get(key);
        if (stored is null) return WritePlan.Fail(StoreErrors.NotFound(resource, key.Name));
        if (delete.PreconditionUid is { Length: > 0 } uid && uid != stored.Metadata.Uid)
            return WritePlan.Fail(StoreErrors.PreconditionFailed(resource, key.Name,
                $"UID in precondition: {uid}, UID in object meta: {stored.Metadata.Uid}"));
        if (delete.PreconditionResourceVersion is { Length: > 0 } rv && rv != stored.Metadata.ResourceVersion)
            return WritePlan.Fail(StoreErrors.PreconditionFailed(resource, key.Name,
                $"ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {stored.Metadata.ResourceVersion}"));
        // A delete is admitted by the plugins that judge deletes (validating admission policies) before anything is planned.
        var attributes = new AdmissionAttributes(resource, AdmissionAttributes.Delete, null, stored, stored)
            { User = delete.UserInfo?.Name, UserInfo = delete.UserInfo, DryRun = delete.DryRun };
        var (refusal, notes) = ValidateDeletion(attributes);
        if (refusal is not null) return WritePlan.Fail(refusal);
        var plan = key.Resource == "pods" && stored is V1Pod pod && GracefulPodDeletion.Plan(pod, delete.GracePeriodSeconds) is { } graceful
            ? graceful
            : DeletePolicies.Plan(state, resource, key.Resource, stored, delete.PropagationPolicy);
        return notes is null || plan.Error is not null ? plan : plan with { Notes = notes };
    }

    /// <summary>The validating plugins that judge deletes, in turn; the first refusal ends it.</summary>
    private (StoreError? Refusal, AdmissionNotes? Notes) ValidateDeletion(AdmissionAttributes attributes)
    {
        List<AdmissionVerdict>? verdicts = null;
        foreach (var admission in _admissions)
        {
            if (admission is not IValidatingAdmission { ValidatesDeletes: true } validating || validating.Validate(attributes, this) is not { } verdict) continue;
            (verdicts ??= []).Add(verdict);
            if (verdict.Refusal is { } refusal) return (refusal with { Notes = AdmissionNotes.Of(verdicts) }, null);
        }
        return (null, verdicts is null ? null : AdmissionNotes.Of(verdicts));
    }

    /// <summary>Every mutating admission plugin in turn: whether any changed the object, or the first refusal.</summary>
    private AdmissionMutation Mutate(AdmissionAttributes attributes)
    {
        var changed = false;
        foreach (var admission in _admissions)
        {
            if (admission is not IMutatingAdmission mutating) continue;
            var mutation = mutating.Admit(attributes, this);
            if (mutation.Refusal is not null) return mutation;
            changed |= mutation.Changed;
        }
        return changed ? AdmissionMutation.Mutated : AdmissionMutation.None;
    }

    /// <summary>Every validating admission plugin in turn; the first refusal ends it (carrying what was said so far).</summary>
    private (StoreError? Refusal, AdmissionNotes? Notes, IReadOnlyList<PlannedWrite> Charges) Validate(AdmissionAttributes attributes)
    {
        if (_admissions.Count == 0) return (null, null, []);
        var verdicts = new List<AdmissionVerdict>();
        var charges = new List<PlannedWrite>();
        foreach (var admission in _admissions)
        {
            if (admission is not IValidatingAdmission validating || validating.Validate(attributes, this) is not { } verdict) continue;
            verdicts.Add(verdict);
            if (verdict.Refusal is { } refusal) return (refusal with { Notes = AdmissionNotes.Of(verdicts) }, null, []);
            charges.AddRange(verdict.Writes);
        }
        return (null, AdmissionNotes.Of(verdicts), charges);
    }

    /// <summary>What a /status update that replaces only the status is built on: <paramref name="stored"/> with its own
    /// metadata and managed fields entries (the update sets the resourceVersion and the managed fields, and
    /// <see cref="ManagedFields.RecordUpdate"/> changes entries in place), sharing everything else, which nothing on that
    /// path writes into; the strategy puts the new status in (<see cref="IResourceStrategy.StatusUpdateReplacesOnlyStatus"/>).</summary>
    private static IKubernetesObject<V1ObjectMeta> StatusBase(IKubernetesObject<V1ObjectMeta> stored)
    {
        var copy = ShallowCopy.Of(stored);
        copy.Metadata = ShallowCopy.Of(stored.Metadata);
        copy.Metadata.ManagedFields = stored.Metadata.ManagedFields?.Select(ShallowCopy.Of).ToList();
        return copy;
    }

    /// <summary>The two objects of a status-only update (<see cref="StatusBase"/>) as field management and the no-change
    /// check see them: <c>{"status":…}</c> of each. Everything else in them is the same (shared, or the copied metadata,
    /// whose resourceVersion and managed fields neither looks at), so these texts are equal exactly when the objects'
    /// are, and their differences are the objects' differences — the fields a /status write can change are under
    /// status, as kube-apiserver's status strategies reset the rest. Null when the managed fields baseline differs
    /// from the stored object's (a request that clears them): then the whole objects are compared.</summary>
    private static (byte[] Json, byte[] OldJson)? StatusOnlyUpdate(IResourceStrategy strategy, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta> old)
    {
        if ((obj.Metadata.ManagedFields?.Count ?? -1) != (old.Metadata.ManagedFields?.Count ?? -1)) return null;
        return (StatusDocument(strategy.StatusOf(obj)), StatusDocument(strategy.StatusOf(old)));
    }

    // KubernetesJson leaves out null properties: an object without status is {} whole.
    private static byte[] StatusDocument(object? status)
    {
        if (status is null) return "{}"u8.ToArray();
        var text = KubeObjects.SerializeToUtf8Bytes(status);
        var document = new byte[text.Length + StatusPrefix.Length + 1];
        StatusPrefix.CopyTo(document);
        text.CopyTo(document.AsSpan(StatusPrefix.Length));
        document[^1] = (byte)'}';
        return document;
    }

    private static ReadOnlySpan<byte> StatusPrefix => "{\"status\":"u8;

    /// <summary>A deep copy of <paramref name="stored"/> read from its text (what <see cref="KubeObjects.CloneObject"/>
    /// does, without serializing it again).</summary>
    private static IKubernetesObject<V1ObjectMeta> CopyOf(IKubernetesObject<V1ObjectMeta> stored, byte[] json) =>
        (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(json, stored.GetType());

    private static StoreError? WrongType(IStoredResource resource, IKubernetesObject<V1ObjectMeta> input) =>
        resource.Strategy.Accepts(input)
            ? null
            : StoreErrors.BadRequest($"the object of kind {input.Kind} cannot be stored as {StoreErrors.QualifiedResource(resource)}");

    /// <summary>Sets apiVersion and kind from the resource, as the API server does on every stored object.</summary>
    private static void StampTypeMeta(IStoredResource resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        obj.ApiVersion = resource.Group.Length == 0 ? resource.Version : $"{resource.Group}/{resource.Version}";
        obj.Kind = resource.Kind;
    }

    /// <summary>Now, in UTC, cut to whole seconds as Kubernetes timestamps are.</summary>
    public static DateTime NowSeconds()
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
