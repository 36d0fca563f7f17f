using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Patching;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The generic REST verbs for every <see cref="ResourceDescription"/>: get, list (and watch), create, update, patch,
/// delete, deletecollection — those its description lists. Validation beyond the URL/body checks is the store's (the
/// kind's strategy). The object a create, update, patch or apply will write is pruned and defaulted as kube's decoder
/// does (<see cref="ResourceDescription.DefaultDecoded"/>) before anything admits it; the store does it again. Admission
/// webhooks (<see cref="IWebhookAdmission"/>) are called here, before the store write, on the object the request will
/// store and the stored one it replaces; the write then carries the stored one's resourceVersion
/// as a precondition, and a lost race calls them again on a fresh read, as kube's GuaranteedUpdate runs admission.
/// </summary>
internal sealed class ResourceHandlers(ObjectStoreClient store, RequestBodies bodies, ApiResponses responses, WatchHandler watch,
    IEnumerable<IWriteAdmission> admissions, IWebhookAdmission webhooks)
{
    private readonly IReadOnlyList<IWriteAdmission> _admissions = admissions.ToList();
    private readonly ListSnapshots _snapshots = new(() => responses.Now);

    /// <summary>Every <see cref="IWriteAdmission"/> on an object about to be created or updated (not through a subresource).</summary>
    private void Admit(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        string? subresource = null, IKubernetesObject<V1ObjectMeta>? old = null)
    {
        if (subresource is null) foreach (var admission in _admissions) admission.Admit(context, resource, obj, old);
        else foreach (var admission in _admissions) admission.AdmitSubresource(context, resource, obj, subresource, old);
    }

    /// <summary>How long a patch keeps retrying lost races before it answers the conflict (kube-apiserver's request
    /// timeout): a patch that pins no resourceVersion retries until it applies, as GuaranteedUpdate does.</summary>
    public static readonly TimeSpan PatchRetryDeadline = TimeSpan.FromSeconds(60);

    public async Task GetAsync(HttpContext context, ResourceDescription resource, string? ns, string name)
    {
        Require(resource, "get");
        var version = ListQuery.ParseResourceVersion(context);
        var obj = await store.GetAsync(resource, ns, name, context.RequestAborted, version);
        await responses.WriteObjectAsync(context, resource, obj);
    }

    public async Task ListAsync(HttpContext context, ResourceDescription resource, string? ns)
    {
        var query = ListQuery.From(context, resource);
        if (QueryParameters.Bool(context, "watch"))
        {
            Require(resource, "watch");
            await watch.WatchAsync(context, resource, ns, query);
            return;
        }
        Require(resource, "list");
        var list = await ListedAsync(context, resource, ns, query);
        var (page, metadata) = query.Select(list);
        // The later pages come from the same list, whatever is written meanwhile.
        if (metadata.ContinueProperty is not null && !list.Partial) _snapshots.Keep(resource, ns, list);
        await responses.WriteListAsync(context, resource, page, metadata, kept: ReferenceEquals(page, list.Listed) && list.FromStore);
    }

    /// <summary>The list a request pages through: the one its continue token names, or the store's current one. A token
    /// of a list this master does not keep (another master served the page before, or it was dropped) continues from the
    /// store's (or replica's) current list when its change window shows that nothing from the token's key on changed
    /// since the token's version — the rest is then the same list at that version; otherwise it is 410 Expired, never
    /// a page of another list.</summary>
    private async Task<ListSnapshot> ListedAsync(HttpContext context, ResourceDescription resource, string? ns, ListQuery query)
    {
        if (query.ContinueFrom is { } start && query.ContinueVersion > 0)
        {
            if (_snapshots.Find(resource, ns, query.ContinueVersion) is { } kept) return kept;
            var current = await store.ListAsync(resource, ns, context.RequestAborted, query.ContinueVersion,
                new ListContinuation(query.ContinueVersion, start));
            // not kept: the items before the start key may differ from the list at that version
            if (current.Continues) return new ListSnapshot(current.Items, query.ContinueVersion) { Partial = true };
            throw new ApiException(410, "Expired",
                       "The provided continue parameter is too old to display a consistent list result. You can start a new list " +
                       "without the continue parameter, or use the continue token in this response to retrieve the remainder of the " +
                       "results. Continuing with the provided token results in an inconsistent list - objects that were created, " +
                       "modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                   {
                       Continue = ListQuery.EncodeContinue(start, -1),
                   };
        }
        var listed = await store.ListAsync(resource, ns, context.RequestAborted, query.ResourceVersion);
        query.CheckListedVersion(listed.ResourceVersion);
        return ListSnapshot.Of(listed, fromStore: true);
    }

    public async Task CreateAsync(HttpContext context, ResourceDescription resource, string? ns)
    {
        if (resource.Namespaced && ns is null) throw ApiException.MethodNotAllowed("POST");
        Require(resource, "create");
        var validation = RequestBodies.FieldValidationOf(context);
        var body = await RequestBodies.ReadBytesAsync(context);
        // The object is made for one attempt and never read here again, so the store takes it without a copy; an
        // admission retry makes it again from the body.
        IKubernetesObject<V1ObjectMeta> Decode()
        {
            var obj = bodies.DecodeObject(context, body, resource, null, validation);
            WriteOptions.Reconcile(obj, resource, ns, urlName: null);
            resource.DefaultDecoded(obj);
            Admit(context, resource, obj);
            return obj;
        }
        var obj = Decode();
        var (dryRun, manager) = (WriteOptions.DryRun(context), WriteOptions.Manager(context));
        Func<IKubernetesObject<V1ObjectMeta>> again = Decode;
        if (await webhooks.AdmitAsync(context, resource, AdmissionAttributes.Create, null, obj, null) is { Called: true, Object: { } admitted })
        {
            // an admission retry sends what the webhooks admitted, not the body again
            var kept = KubeObjects.CloneObject(admitted);
            (obj, again) = (admitted, () => KubeObjects.CloneObject(kept));
        }
        var created = await store.WriteStoredAsync(context, new CreateObject(resource.StoreName, obj, dryRun, manager), resource,
            obj.Metadata.Name, again: () => new CreateObject(resource.StoreName, again(), dryRun, manager));
        EncodedObjects.Remember(created.Object, resource, created.Json);
        await responses.WriteObjectAsync(context, resource, created.Object, 201);
    }

    public async Task UpdateAsync(HttpContext context, ResourceDescription resource, string? ns, string name, string? subresource = null)
    {
        if (subresource is null) Require(resource, "update");
        var validation = RequestBodies.FieldValidationOf(context);
        var body = await RequestBodies.ReadBytesAsync(context);
        // as a create's object: the store takes it without a copy
        IKubernetesObject<V1ObjectMeta> Decode()
        {
            var obj = bodies.DecodeObject(context, body, resource, subresource, validation);
            WriteOptions.Reconcile(obj, resource, ns, name);
            resource.DefaultDecoded(obj);
            Admit(context, resource, obj, subresource);
            return obj;
        }
        var (dryRun, manager) = (WriteOptions.DryRun(context), WriteOptions.Manager(context));
        if (await webhooks.ConfiguredAsync(resource, context.RequestAborted) && await ExistsAsync(resource, ns, name, context.RequestAborted))
        {
            // the webhooks see the stored object the update replaces: the write is pinned to it and retried on a lost race
            var pinned = await PatchLoopAsync(context, resource, ns, name, async current =>
            {
                var obj = Decode();
                var pinnedByClient = !string.IsNullOrEmpty(obj.Metadata.ResourceVersion);
                var admitted = await webhooks.AdmitAsync(context, resource, AdmissionAttributes.Update, subresource, obj, current);
                var result = admitted.Object ?? obj;
                // a client's own resourceVersion stays the precondition, whatever a webhook did to it
                if (pinnedByClient) result.Metadata.ResourceVersion = obj.Metadata.ResourceVersion;
                return result;
            }, obj => new UpdateObject(resource.StoreName, obj, subresource, dryRun, manager));
            await responses.WriteObjectAsync(context, resource, pinned);
            return;
        }
        var obj = Decode();
        Func<IKubernetesObject<V1ObjectMeta>> again = Decode;
        // nothing stored: the webhooks see a create (a kind that creates on update), else the store answers 404
        if (await webhooks.AdmitAsync(context, resource, AdmissionAttributes.Create, subresource, obj, null) is { Called: true, Object: { } admitted })
        {
            var kept = KubeObjects.CloneObject(admitted);
            (obj, again) = (admitted, () => KubeObjects.CloneObject(kept));
        }
        var updated = await store.WriteStoredAsync(context, new UpdateObject(resource.StoreName, obj, subresource, dryRun, manager),
            resource, name, again: () => new UpdateObject(resource.StoreName, again(), subresource, dryRun, manager));
        EncodedObjects.Remember(updated.Object, resource, updated.Json);
        await responses.WriteObjectAsync(context, resource, updated.Object);
    }

    public async Task PatchAsync(HttpContext context, ResourceDescription resource, string? ns, string name, string? subresource = null)
    {
        if (subresource is null) Require(resource, "patch");
        var validation = RequestBodies.FieldValidationOf(context);
        var body = await RequestBodies.ReadBytesAsync(context);
        var mediaType = RequestBodies.MediaType(context);
        var dryRun = WriteOptions.DryRun(context);
        var manager = WriteOptions.Manager(context);
        if (mediaType == PatchApplier.StrategicMergePatchType && resource.ObjectType == typeof(CustomObject))
            throw new ApiException(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: {PatchApplier.JsonPatchType}, " +
                $"{PatchApplier.MergePatch}, {PatchApplier.ApplyPatch}");
        // PatchOptions as kube validates them: force belongs to apply alone.
        if (mediaType != PatchApplier.ApplyPatch && context.Request.Query.ContainsKey("force"))
            throw ApiException.InvalidOptions("PatchOptions", "force", "Forbidden: may not be specified for non-apply patch",
                "FieldValueForbidden");
        if (mediaType == PatchApplier.ApplyPatch && subresource is null)
        {
            await ApplyAsync(context, resource, ns, name, body, dryRun, validation);
            return;
        }
        var patch = PatchApplier.Parse(body, mediaType);
        RequestBodies.ReportDuplicates(context, patch.DuplicateFields, validation,
            strict => ApiException.BadRequest($"error strict decoding patch: {strict}"));
        var updated = await PatchLoopAsync(context, resource, ns, name, async current =>
        {
            var patched = PatchApplier.Apply(ObjectJson.ToJson(current, resource), patch.Root, mediaType);
            var obj = RequestBodies.ToObject(context, patched, resource, validation,
                problem => PatchApplier.DoesNotFit(mediaType, patch.Root, patched, problem));
            WriteOptions.Reconcile(obj, resource, ns, name);
            resource.DefaultDecoded(obj);
            Admit(context, resource, obj, subresource, current);
            return await WebhooksAsync(context, resource, subresource, obj, current);
        }, obj => new UpdateObject(resource.StoreName, obj, subresource, dryRun, manager));
        await responses.WriteObjectAsync(context, resource, updated);
    }

    /// <summary>Server-side apply (<see cref="ServerSideApply"/>): creates the object when it does not exist.</summary>
    private async Task ApplyAsync(HttpContext context, ResourceDescription resource, string? ns, string name, byte[] body, bool dryRun,
        FieldValidation validation)
    {
        var manager = context.Request.Query["fieldManager"].ToString();
        if (manager.Length == 0)
            throw ApiException.InvalidOptions("PatchOptions", "fieldManager", "Required value: is required for apply patch",
                "FieldValueRequired");
        WriteOptions.CheckManager(context, manager);
        var force = QueryParameters.Bool(context, "force");
        var applier = new FieldManager(manager, ManagedFields.Apply);
        var (applied, duplicates) = ServerSideApply.ParseBody(body);
        ServerSideApply.CheckType(applied, resource.Group, resource.Version, resource.Kind);
        RequestBodies.ReportDuplicates(context, duplicates, validation,
            strict => ApiException.BadRequest($"error strict decoding patch: {strict}"));
        RequestBodies.ValidateFields(context, applied, resource, validation);
        IKubernetesObject<V1ObjectMeta> Build(IKubernetesObject<V1ObjectMeta>? current)
        {
            var obj = RequestBodies.ToObject(context,
                ServerSideApply.Apply(current is null ? null : ObjectJson.ToJson(current, resource), applied, manager, responses.Now, force),
                resource, FieldValidation.Ignore);
            WriteOptions.Reconcile(obj, resource, ns, name);
            resource.DefaultDecoded(obj);
            Admit(context, resource, obj, old: current);
            return obj;
        }
        try
        {
            await store.GetAsync(resource, ns, name, context.RequestAborted);
        }
        catch (ApiException e) when (e.Code == 404)
        {
            var obj = await WebhooksAsync(context, resource, null, Build(null), null);
            var created = await store.WriteAsync(context, new CreateObject(resource.StoreName, obj, dryRun, applier), resource, name);
            await responses.WriteObjectAsync(context, resource, created, 201);
            return;
        }
        var updated = await PatchLoopAsync(context, resource, ns, name, current => WebhooksAsync(context, resource, null, Build(current), current),
            obj => new UpdateObject(resource.StoreName, obj, null, dryRun, applier));
        await responses.WriteObjectAsync(context, resource, updated);
    }

    /// <summary>
    /// Read, change, write with the read resourceVersion; a conflict (someone wrote in between) is retried from a
    /// fresh read for as long as <see cref="PatchRetryDeadline"/> allows, unless the change itself pinned a
    /// resourceVersion, as the real server does for patches. After a few lost races each retry waits a little,
    /// at random, so that many writers of one object do not keep colliding.
    /// </summary>
    public Task<IKubernetesObject<V1ObjectMeta>> PatchLoopAsync(HttpContext context, ResourceDescription resource, string? ns,
        string name, Func<IKubernetesObject<V1ObjectMeta>, IKubernetesObject<V1ObjectMeta>> change,
        Func<IKubernetesObject<V1ObjectMeta>, object> write) =>
        PatchLoopAsync(context, resource, ns, name, current => Task.FromResult(change(current)), write);

    /// <summary>As the other, with a change that calls out (admission webhooks).</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> PatchLoopAsync(HttpContext context, ResourceDescription resource, string? ns,
        string name, Func<IKubernetesObject<V1ObjectMeta>, Task<IKubernetesObject<V1ObjectMeta>>> change,
        Func<IKubernetesObject<V1ObjectMeta>, object> write)
    {
        var deadline = DateTime.UtcNow + PatchRetryDeadline;
        for (var attempt = 1; ; attempt++)
        {
            var current = await store.GetAsync(resource, ns, name, context.RequestAborted);
            var changed = await change(current);
            var pinned = !string.IsNullOrEmpty(changed.Metadata.ResourceVersion) &&
                         changed.Metadata.ResourceVersion != current.Metadata.ResourceVersion;
            if (!pinned) changed.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
            if (string.IsNullOrEmpty(changed.Metadata.Uid)) changed.Metadata.Uid = current.Metadata.Uid;
            try
            {
                return await store.WriteAsync(context, write(changed), resource, name);
            }
            catch (ApiException e) when (e.Code == 409 && !pinned && DateTime.UtcNow < deadline)
            {
                // Lost a race with another writer: re-read and apply the change again.
                if (attempt > 3) await Task.Delay(Random.Shared.Next(1, Math.Min(attempt, 20) * 5), context.RequestAborted);
            }
        }
    }

    public async Task DeleteAsync(HttpContext context, ResourceDescription resource, string? ns, string name)
    {
        Require(resource, "delete");
        var (policy, uid, resourceVersion, dryRun, grace) = await WriteOptions.DeleteOptionsAsync(context);
        // as a write: admission (policies judge deletes) sees who asks, and what it says goes to the response and audit
        var deleted = await DeleteOneAsync(context, resource, ns, name, policy, uid, resourceVersion, dryRun, grace);
        await responses.WriteObjectAsync(context, resource, deleted);
    }

    public async Task DeleteCollectionAsync(HttpContext context, ResourceDescription resource, string? ns)
    {
        Require(resource, "deletecollection");
        var query = ListQuery.From(context, resource) with { Limit = 0, ContinueFrom = null };
        var (policy, _, _, dryRun, grace) = await WriteOptions.DeleteOptionsAsync(context);
        var withWebhooks = await webhooks.ConfiguredAsync(resource, context.RequestAborted);
        var listed = await store.ListAsync(resource, ns, context.RequestAborted, query.ResourceVersion);
        query.CheckListedVersion(listed.ResourceVersion);
        var (matching, metadata) = query.Select(listed);
        var deleted = new List<IKubernetesObject<V1ObjectMeta>>();
        foreach (var obj in matching)
        {
            try
            {
                deleted.Add(withWebhooks
                    ? await DeleteOneAsync(context, resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name, policy, null, null, dryRun, grace)
                    : await store.WriteAsync(context,
                        new DeleteObject(ResourceKey.Of(resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name), null, null,
                            policy, dryRun, grace),
                        resource, obj.Metadata.Name));
            }
            catch (ApiException e) when (e.Code == 404)
            {
                // Already gone: deletecollection only promises that the matching objects end up deleted.
            }
        }
        if (ProtobufAnswers.Wanted(context)) await ProtobufAnswers.WriteListAsync(context, resource, deleted, metadata);
        else await ApiResponses.WriteJsonAsync(context, 200, ApiResponses.ListJson(resource, deleted, metadata));
    }

    /// <summary>One delete; with webhooks, they see the stored object and the delete is pinned to its resourceVersion
    /// (unless the client pinned one), retried on a lost race from a fresh read.</summary>
    private async Task<IKubernetesObject<V1ObjectMeta>> DeleteOneAsync(HttpContext context, ResourceDescription resource, string? ns, string name,
        string policy, string? uid, string? resourceVersion, bool dryRun, long? grace)
    {
        if (!await webhooks.ConfiguredAsync(resource, context.RequestAborted))
            return await store.WriteAsync(context, new DeleteObject(ResourceKey.Of(resource, ns, name), uid, resourceVersion, policy, dryRun, grace),
                resource, name);
        WebhookDeleteOptions.Remember(context, policy, grace, dryRun, uid, resourceVersion);
        var deadline = DateTime.UtcNow + PatchRetryDeadline;
        for (var attempt = 1; ; attempt++)
        {
            var current = await store.GetAsync(resource, ns, name, context.RequestAborted);
            await webhooks.AdmitAsync(context, resource, AdmissionAttributes.Delete, null, null, current);
            try
            {
                return await store.WriteAsync(context,
                    new DeleteObject(ResourceKey.Of(resource, ns, name), uid, resourceVersion ?? current.Metadata.ResourceVersion, policy, dryRun, grace),
                    resource, name);
            }
            catch (ApiException e) when (e.Code == 409 && resourceVersion is null && DateTime.UtcNow < deadline)
            {
                if (attempt > 3) await Task.Delay(Random.Shared.Next(1, Math.Min(attempt, 20) * 5), context.RequestAborted);
            }
        }
    }

    private async Task<bool> ExistsAsync(ResourceDescription resource, string? ns, string name, CancellationToken ct)
    {
        try
        {
            await store.GetAsync(resource, ns, name, ct);
            return true;
        }
        catch (ApiException e) when (e.Code == 404)
        {
            return false;
        }
    }

    /// <summary>The object after the admission webhooks (the same one when none was called).</summary>
    private async Task<IKubernetesObject<V1ObjectMeta>> WebhooksAsync(HttpContext context, ResourceDescription resource, string? subresource,
        IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? current)
    {
        var operation = current is null ? AdmissionAttributes.Create : AdmissionAttributes.Update;
        return (await webhooks.AdmitAsync(context, resource, operation, subresource, obj, current)).Object ?? obj;
    }

    /// <summary>A verb the description does not list is refused as the real server refuses it.</summary>
    private static void Require(ResourceDescription resource, string verb)
    {
        if (!resource.Allows(verb)) throw ApiException.MethodNotAllowed(verb);
    }
}
